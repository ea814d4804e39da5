package io.ferry.shell.attestation;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.osgi.framework.BundleContext;

import io.ferry.api.attestation.Attester;
import io.ferry.api.attestation.Measurer;
import io.ferry.api.tpm.TpmException;
import io.ferry.shell.support.Services;

/** What every attestation: command shares: per-call lookup of the agent's services and the TPM's error line. */
abstract class AttestationCommand implements Action {

    static final String MISSING = "no attestation service: install the ferry-attestation feature (it needs io.ferry.tpm "
            + "and io.ferry.attestation configured)";

    @Reference
    BundleContext context;

    @Override
    public final Object execute() {
        try {
            run();
        } catch (TpmException e) {
            throw new IllegalStateException("TPM: " + e.getMessage(), e);
        }
        return null;
    }

    Measurer measurer() {
        return Services.get(context, Measurer.class, MISSING);
    }

    Attester attester() {
        return Services.get(context, Attester.class, MISSING);
    }

    abstract void run();
}
