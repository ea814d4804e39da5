package io.ferry.shell.protection;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;

import io.ferry.api.protection.ComponentCheck;
import io.ferry.api.protection.ProtectionAlert;

@Service
@Command(scope = "protection", name = "alerts",
        description = "Shows the newest protection alerts (changed guest memory, changed host binaries), oldest first.")
public class AlertsCommand extends ProtectionCommand {

    @Option(name = "-n", aliases = "--limit", description = "At most this many alerts (default 50)")
    int limit = 50;

    @Option(name = "-c", aliases = "--components",
            description = "Also re-measure the host's QEMU and libvirtd binaries now against the measurement log")
    boolean components;

    @Override
    public Object execute() {
        if (components) {
            for (ComponentCheck c : protection().checkComponents()) {
                System.out.printf("%-20s %s  %s%n", c.component(), c.matches() ? "as measured" : "CHANGED", c.path());
            }
        }
        ShellTable table = new ShellTable();
        table.column("Seq");
        table.column("Time");
        table.column("Kind");
        table.column("Host");
        table.column("Domain");
        table.column("Action");
        table.column("Detail").maxSize(80);
        for (ProtectionAlert a : protection().alerts(limit)) {
            table.addRow().addContent(a.seq(), a.time(), a.kind(), a.host() == null ? "-" : a.host(),
                    a.domain() == null ? "-" : a.domain(), a.action(), a.detail());
        }
        table.print(System.out);
        return null;
    }
}
