package io.ferry.shell.migration;

import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.ferry.api.migration.MigrationOutcome;
import io.ferry.api.migration.Migrations;
import io.ferry.shell.support.Units;

@Service
@Command(scope = "migration", name = "history", description = "Shows the finished migrations of this agent, newest "
        + "first: how each ended, why, and where the VM runs.")
public class HistoryCommand extends MigrationCommand {

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss")
            .withZone(ZoneOffset.UTC);

    @Option(name = "-n", aliases = "--max", description = "How many to show (default 20)")
    int max = 20;

    @Option(name = "-v", aliases = "--verbose", description = "Also the figures of each migration")
    boolean verbose;

    @Override
    void run(Migrations migrations) {
        List<MigrationOutcome> history = migrations.history();
        if (history.isEmpty()) {
            System.out.println("No migrations yet.");
            return;
        }
        for (MigrationOutcome o : history.subList(0, Math.min(max, history.size()))) {
            String how = o.succeeded() ? "MIGRATED" : o.refused() ? "REFUSED" : "FAILED";
            System.out.printf("%s  %-8s %-20s %-28s %-10s %s%n", TIME.format(o.started()), how, o.vm(), o.target(),
                    o.user(), Units.millis(o.totalMillis()));
            if (!o.succeeded()) {
                System.out.println("    " + o.cause().word() + " in " + o.phase().word() + ": " + o.reason());
                System.out.println("    the VM runs " + (o.runsOnSource() ? "on the source" : "on the target"));
            }
            if (verbose) {
                System.out.println("    session " + o.id() + ", preparation " + Units.millis(o.preparationMillis())
                        + ", transfer " + Units.millis(o.transferMillis()) + ", downtime "
                        + Units.millis(o.downtimeMillis()) + ", " + Units.bytes(o.bytesCarried()) + " carried");
            }
        }
    }
}
