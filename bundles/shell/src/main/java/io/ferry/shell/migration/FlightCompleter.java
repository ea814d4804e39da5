package io.ferry.shell.migration;

import java.util.ArrayList;
import java.util.List;

import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.CommandLine;
import org.apache.karaf.shell.api.console.Completer;
import org.apache.karaf.shell.api.console.Session;
import org.osgi.framework.BundleContext;

import io.ferry.api.migration.MigrationStatus;
import io.ferry.shell.support.Completions;

/** Completes the ids and VMs of the migrations in flight. */
@Service
public class FlightCompleter implements Completer {

    @Reference
    BundleContext context;

    @Override
    public int complete(Session session, CommandLine commandLine, List<String> candidates) {
        return Completions.complete(session, commandLine, candidates, () -> {
            List<String> names = new ArrayList<>();
            for (MigrationStatus s : MigrationCommand.migrations(context).inFlight()) {
                names.add(s.id());
                names.add(s.vm());
            }
            return names;
        });
    }
}
