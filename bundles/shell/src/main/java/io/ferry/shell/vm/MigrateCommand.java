package io.ferry.shell.vm;

import java.time.Duration;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.Session;

import io.ferry.api.hypervisor.Hypervisor;
import io.ferry.api.hypervisor.JobStats;
import io.ferry.api.hypervisor.MigrationOptions;
import io.ferry.api.hypervisor.MigrationResult;
import io.ferry.shell.support.Hypervisors;
import io.ferry.shell.support.ProgressBar;
import io.ferry.shell.support.Units;

/**
 * Plain libvirt live migration, peer-to-peer and tunnelled through libvirt's connection: the
 * baseline that Ferry's secure migration is measured against. It checks no policy and attests
 * nothing.
 */
@Service
@Command(scope = "vm", name = "migrate",
        description = "Moves a running domain live to another libvirt host (plain libvirt migration, no Ferry security).")
public class MigrateCommand extends VmCommand {

    @Argument(index = 0, name = "domain", description = "The domain name", required = true)
    @Completion(DomainCompleter.class)
    String domain;

    @Argument(index = 1, name = "target",
            description = "The target: a libvirt URI as the source host reaches it (qemu+tcp://...), or a configured host name",
            required = true)
    @Completion(HostCompleter.class)
    String target;

    /** The session's own console: the progress comes from another thread, where System.out is not the session's. */
    @Reference
    Session session;

    @Option(name = "--max-downtime", description = "Longest guest pause at switch-over, in ms")
    long maxDowntimeMillis = 300;

    @Option(name = "--bandwidth", description = "Bandwidth cap in MiB/s, 0 for none")
    long bandwidth;

    @Option(name = "--timeout", description = "Abort if not done after this many seconds")
    long timeoutSeconds = 600;

    @Override
    public Object execute() {
        Hypervisor source = hypervisor();
        String targetUri = target.contains(":/") ? target : new Hypervisors(context).get(target).uri();
        MigrationOptions options = new MigrationOptions(Duration.ofMillis(maxDowntimeMillis), bandwidth,
                Duration.ofSeconds(timeoutSeconds), Duration.ofMillis(200));
        System.out.println("Migrating " + domain + " from " + source.hostName() + " to " + targetUri);
        ProgressBar bar = new ProgressBar(session.getConsole());
        MigrationResult result;
        try {
            result = source.migrate(domain, targetUri, options, bar::update);
        } finally {
            bar.finish();
        }
        JobStats s = result.stats();
        System.out.println("Migrated " + domain + " to " + targetUri);
        System.out.println("  total time   " + Units.millis(result.wallMillis()));
        System.out.println("  downtime     " + Units.millis(s.downtimeMillis()));
        System.out.println("  transferred  " + Units.bytes(s.dataProcessed()));
        System.out.println("  memory rate  " + Units.rate(s.memoryBytesPerSecond()));
        System.out.println("  iterations   " + (s.iterations() < 0 ? "?" : String.valueOf(s.iterations())));
        return null;
    }
}
