package io.ferry.shell.tpm;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.osgi.framework.BundleContext;

import io.ferry.api.tpm.Tpm;
import io.ferry.api.tpm.TpmUnavailableException;
import io.ferry.shell.support.Services;

/** What every tpm: command shares: the per-call lookup of the Tpm service and its error line. */
abstract class TpmCommand implements Action {

    @Reference
    BundleContext context;

    @Override
    public final Object execute() {
        Tpm tpm = Services.get(context, Tpm.class,
                "no TPM service: install the ferry-tpm feature and configure io.ferry.tpm");
        try {
            run(tpm);
        } catch (TpmUnavailableException e) {
            throw new IllegalStateException("TPM unavailable: " + e.getMessage(), e);
        }
        return null;
    }

    abstract void run(Tpm tpm);
}
