package io.ferry.shell.attestation;

import java.util.List;

import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.CommandLine;
import org.apache.karaf.shell.api.console.Completer;
import org.apache.karaf.shell.api.console.Session;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;

import io.ferry.api.attestation.Attestations;
import io.ferry.api.attestation.SecurityLevels;
import io.ferry.shell.support.Completions;

/** Completes security levels: the IT center's configured ones where it runs, else the default ones. */
@Service
public class LevelCompleter implements Completer {

    @Reference
    BundleContext context;

    @Override
    public int complete(Session session, CommandLine commandLine, List<String> candidates) {
        return Completions.complete(session, commandLine, candidates, () -> {
            ServiceReference<Attestations> ref = context.getServiceReference(Attestations.class);
            Attestations a = ref == null ? null : context.getService(ref);
            return (a == null ? SecurityLevels.DEFAULT : a.levels()).names();
        });
    }
}
