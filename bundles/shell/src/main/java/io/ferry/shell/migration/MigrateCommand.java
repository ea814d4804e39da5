package io.ferry.shell.migration;

import java.time.Duration;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.Session;

import io.ferry.api.channel.AgentAddress;
import io.ferry.api.migration.MigrationOutcome;
import io.ferry.api.migration.MigrationRequest;
import io.ferry.api.migration.Migrations;
import io.ferry.shell.support.Units;
import io.ferry.shell.vm.DomainCompleter;
import io.ferry.shell.vm.HostCompleter;

/**
 * Secure live migration to another agent: policy, mutual attestation bound to the channel,
 * integrity check, policy handover, then libvirt's live migration inside agent channels.
 */
@Service
@Command(scope = "migration", name = "migrate", description = "Moves a running VM live to another agent, securely: "
        + "the VM's policy decides, both agents are attested by the IT center on the channel, the VM's integrity is "
        + "checked, and the whole VM state travels inside mutual-TLS agent channels. On any failure before the target "
        + "confirms, the VM keeps running here.")
public class MigrateCommand extends MigrationCommand {

    @Argument(index = 0, name = "vm", description = "The VM (domain name on this agent's host)", required = true)
    @Completion(DomainCompleter.class)
    String vm;

    @Argument(index = 1, name = "target", description = "The target agent: agent@host:port (its channel port)",
            required = true)
    String target;

    @Option(name = "-H", aliases = "--host", description = "The hypervisor host the VM runs on (default: this agent's)")
    @Completion(HostCompleter.class)
    String host;

    @Option(name = "-u", aliases = "--user", description = "Who asks for the migration (default: the console user)")
    String user;

    @Option(name = "--max-downtime", description = "Longest guest pause at switch-over, in ms (default: the agent's)")
    long maxDowntimeMillis;

    @Option(name = "--timeout", description = "Abort if not confirmed after this many seconds (default: the agent's)")
    long timeoutSeconds;

    /** The session's own console: progress comes from another thread, where System.out is not the session's. */
    @Reference
    Session session;

    @Override
    void run(Migrations migrations) {
        AgentAddress address = AgentAddress.parse(target);
        String who = user != null ? user : String.valueOf(session.get("USER"));
        MigrationRequest request = new MigrationRequest(vm, host, address, who,
                maxDowntimeMillis > 0 ? Duration.ofMillis(maxDowntimeMillis) : null,
                timeoutSeconds > 0 ? Duration.ofSeconds(timeoutSeconds) : null);
        System.out.println("Migrating " + vm + " to " + address + " for " + who);
        MigrationLine line = new MigrationLine(session.getConsole());
        MigrationOutcome o;
        try {
            o = migrations.migrateOut(request, line::update);
        } finally {
            line.finish();
        }
        print(o);
        if (!o.succeeded()) {
            throw new IllegalStateException((o.refused() ? "Refused" : "Failed") + " (" + o.cause().word() + "): "
                    + o.reason() + (o.runsOnSource() ? "; " + vm + " keeps running here" : ""));
        }
    }

    static void print(MigrationOutcome o) {
        if (o.succeeded()) {
            System.out.println("Migrated " + o.vm() + " to " + o.target() + " (session " + o.id() + ")");
            System.out.println("  total time    " + Units.millis(o.totalMillis()));
            System.out.println("  preparation   " + Units.millis(o.preparationMillis())
                    + "  (policy, channel, attestation, integrity, handover)");
            System.out.println("  transfer      " + Units.millis(o.transferMillis()));
            System.out.println("  downtime      " + Units.millis(o.downtimeMillis()));
            System.out.println("  transferred   " + Units.bytes(o.bytesTransferred()));
            System.out.println("  carried       " + Units.bytes(o.bytesCarried()) + " inside agent channels");
        }
    }
}
