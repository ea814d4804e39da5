package io.ferry.shell.vm;

import java.util.List;

import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.CommandLine;
import org.apache.karaf.shell.api.console.Completer;
import org.apache.karaf.shell.api.console.Session;
import org.osgi.framework.BundleContext;

import io.ferry.api.hypervisor.DomainSummary;
import io.ferry.shell.support.Completions;
import io.ferry.shell.support.Hypervisors;

/** Completes the domain names of the host chosen with -H/--host on the same line (or the default host). */
@Service
public class DomainCompleter implements Completer {

    @Reference
    BundleContext context;

    @Override
    public int complete(Session session, CommandLine commandLine, List<String> candidates) {
        return Completions.complete(session, commandLine, candidates,
                () -> new Hypervisors(context).get(hostOption(commandLine.getArguments())).listDomains().stream()
                        .map(DomainSummary::name).toList());
    }

    static String hostOption(String[] args) {
        for (int i = 0; i + 1 < args.length; i++) {
            if ("-H".equals(args[i]) || "--host".equals(args[i])) {
                return args[i + 1];
            }
        }
        return null;
    }
}
