package io.ferry.shell.policy;

import java.util.ArrayList;
import java.util.List;

import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.CommandLine;
import org.apache.karaf.shell.api.console.Completer;
import org.apache.karaf.shell.api.console.Session;
import org.osgi.framework.BundleContext;

import io.ferry.api.policy.PolicyService;
import io.ferry.api.policy.SignedPolicy;
import io.ferry.shell.support.Completions;
import io.ferry.shell.support.Services;

/** Completes the names (and UUIDs) of the VMs this agent holds a policy for. */
@Service
public class VmCompleter implements Completer {

    @Reference
    BundleContext context;

    @Override
    public int complete(Session session, CommandLine commandLine, List<String> candidates) {
        return Completions.complete(session, commandLine, candidates, () -> {
            List<String> names = new ArrayList<>();
            for (SignedPolicy p : Services.get(context, PolicyService.class, "no policy service").list()) {
                names.add(p.policy().vm().name());
                names.add(p.policy().vm().uuid());
            }
            return names;
        });
    }
}
