package io.ferry.shell.protection;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;

import io.ferry.api.protection.DomainBaseline;
import io.ferry.api.protection.IntegrityCheck;
import io.ferry.api.protection.ProtectionStatus;

@Service
@Command(scope = "protection", name = "status",
        description = "Shows hypervisor protection: the provider's version, interval and action, and every protected domain's last check.")
public class StatusCommand extends ProtectionCommand {

    @Override
    public Object execute() {
        ProtectionStatus s = protection().status();
        System.out.printf("Provider:    io.ferry.hypervisor.protection %s%n", s.providerVersion());
        System.out.printf("Interval:    %s%n", s.interval().isZero() ? "on demand only" : s.interval().toSeconds() + " s");
        System.out.printf("On change:   %s%n", s.action());
        System.out.printf("Last round:  %s%n", s.lastRound() == null ? "-" : s.lastRound());
        System.out.printf("Alerts:      %d%n", s.alerts());
        ShellTable table = new ShellTable();
        table.column("Host");
        table.column("Domain");
        table.column("Baseline");
        table.column("Last check");
        table.column("Status");
        table.column("Findings").maxSize(70);
        for (DomainBaseline b : protection().baselines()) {
            IntegrityCheck c = s.checks().stream().filter(x -> x.domain().equals(b.domain())).findFirst().orElse(null);
            table.addRow().addContent(b.host(), b.domain(), b.takenAt(), c == null ? "-" : c.measuredAt(),
                    c == null ? "-" : c.status(), c == null ? "" : String.join("; ", c.findings()));
        }
        table.print(System.out);
        return null;
    }
}
