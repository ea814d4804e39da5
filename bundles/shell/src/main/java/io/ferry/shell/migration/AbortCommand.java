package io.ferry.shell.migration;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.ferry.api.migration.Migrations;

@Service
@Command(scope = "migration", name = "abort", description = "Aborts a migration in flight; the VM keeps running on "
        + "the source, and the target removes what it received.")
public class AbortCommand extends MigrationCommand {

    @Argument(index = 0, name = "migration", description = "The migration's id (or its first characters), or its VM",
            required = true)
    @Completion(FlightCompleter.class)
    String migration;

    @Override
    void run(Migrations migrations) {
        if (!migrations.abort(migration)) {
            throw new IllegalArgumentException("no migration in flight matches '" + migration
                    + "' (migration:list shows them)");
        }
        System.out.println("Aborting " + migration + "; migration:history shows how it ended.");
    }
}
