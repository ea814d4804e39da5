package io.ferry.shell.itcenter;

import java.util.ArrayList;
import java.util.List;

import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.CommandLine;
import org.apache.karaf.shell.api.console.Completer;
import org.apache.karaf.shell.api.console.Session;
import org.osgi.framework.BundleContext;

import io.ferry.api.itcenter.Agent;
import io.ferry.api.itcenter.ItCenter;
import io.ferry.shell.support.Completions;
import io.ferry.shell.support.Services;

/** Completes agent ids and names. */
@Service
public class AgentCompleter implements Completer {

    @Reference
    BundleContext context;

    @Override
    public int complete(Session session, CommandLine commandLine, List<String> candidates) {
        return Completions.complete(session, commandLine, candidates, () -> {
            List<String> names = new ArrayList<>();
            for (Agent a : Services.get(context, ItCenter.class, "no IT center").agents()) {
                names.add(a.id());
                names.add(a.name());
            }
            return names;
        });
    }
}
