package io.ferry.shell.policy;

import java.util.List;

import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.CommandLine;
import org.apache.karaf.shell.api.console.Completer;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.support.completers.StringsCompleter;
import org.osgi.framework.BundleContext;

import io.ferry.api.policy.PolicyService;
import io.ferry.shell.support.Services;

/** Completes the security levels the policy service is configured with. */
@Service
public class LevelCompleter implements Completer {

    @Reference
    BundleContext context;

    @Override
    public int complete(Session session, CommandLine commandLine, List<String> candidates) {
        StringsCompleter names = new StringsCompleter();
        try {
            names.getStrings().addAll(Services.get(context, PolicyService.class, "no policy service").levels()
                    .lowestFirst());
        } catch (RuntimeException e) {
            // no policy service: nothing to offer
        }
        return names.complete(session, commandLine, candidates);
    }
}
