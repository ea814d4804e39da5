package io.ferry.shell.vm;

import java.util.List;

import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.CommandLine;
import org.apache.karaf.shell.api.console.Completer;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.support.completers.StringsCompleter;
import org.osgi.framework.BundleContext;

import io.ferry.api.hypervisor.DomainSummary;
import io.ferry.shell.support.Hypervisors;

/** Completes the domain names of the host chosen with -H/--host on the same line (or the default host). */
@Service
public class DomainCompleter implements Completer {

    @Reference
    BundleContext context;

    @Override
    public int complete(Session session, CommandLine commandLine, List<String> candidates) {
        StringsCompleter names = new StringsCompleter();
        try {
            for (DomainSummary d : new Hypervisors(context).get(hostOption(commandLine.getArguments())).listDomains()) {
                names.getStrings().add(d.name());
            }
        } catch (RuntimeException e) {
            // no host or host unreachable: nothing to offer
        }
        return names.complete(session, commandLine, candidates);
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
