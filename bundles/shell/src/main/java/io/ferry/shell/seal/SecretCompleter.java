package io.ferry.shell.seal;

import java.util.List;

import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.CommandLine;
import org.apache.karaf.shell.api.console.Completer;
import org.apache.karaf.shell.api.console.Session;
import org.osgi.framework.BundleContext;

import io.ferry.api.seal.SealStorage;
import io.ferry.shell.support.Completions;
import io.ferry.shell.support.Services;

/** Completes the names of the sealed secrets (names only: listing needs no unsealing). */
@Service
public class SecretCompleter implements Completer {

    @Reference
    BundleContext context;

    @Override
    public int complete(Session session, CommandLine commandLine, List<String> candidates) {
        return Completions.complete(session, commandLine, candidates,
                () -> Services.get(context, SealStorage.class, "no seal storage").list());
    }
}
