package io.ferry.shell.itcenter;

import java.util.List;

import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.CommandLine;
import org.apache.karaf.shell.api.console.Completer;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.support.completers.StringsCompleter;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;

import io.ferry.api.itcenter.Agent;
import io.ferry.api.itcenter.ItCenter;

/** Completes agent ids and names. */
@Service
public class AgentCompleter implements Completer {

    @Reference
    BundleContext context;

    @Override
    public int complete(Session session, CommandLine commandLine, List<String> candidates) {
        StringsCompleter delegate = new StringsCompleter();
        ServiceReference<ItCenter> ref = context.getServiceReference(ItCenter.class);
        ItCenter itc = ref == null ? null : context.getService(ref);
        if (itc != null) {
            for (Agent a : itc.agents()) {
                delegate.getStrings().add(a.id());
                delegate.getStrings().add(a.name());
            }
        }
        return delegate.complete(session, commandLine, candidates);
    }
}
