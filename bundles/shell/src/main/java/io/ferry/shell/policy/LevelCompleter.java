package io.ferry.shell.policy;

import java.util.List;

import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.CommandLine;
import org.apache.karaf.shell.api.console.Completer;
import org.apache.karaf.shell.api.console.Session;
import org.osgi.framework.BundleContext;

import io.ferry.api.policy.PolicyService;
import io.ferry.shell.support.Completions;
import io.ferry.shell.support.Services;

/** Completes the security levels the policy service is configured with. */
@Service
public class LevelCompleter implements Completer {

    @Reference
    BundleContext context;

    @Override
    public int complete(Session session, CommandLine commandLine, List<String> candidates) {
        return Completions.complete(session, commandLine, candidates,
                () -> Services.get(context, PolicyService.class, "no policy service").levels().names());
    }
}
