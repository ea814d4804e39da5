package io.ferry.shell.protection;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.ferry.api.protection.DomainBaseline;
import io.ferry.api.protection.RegionBaseline;
import io.ferry.shell.vm.DomainCompleter;
import io.ferry.shell.vm.HostCompleter;
import io.ferry.shell.support.Units;

@Service
@Command(scope = "protection", name = "baseline",
        description = "Takes a running domain's baseline now: what its protected regions hold becomes the reference, replacing any earlier one.")
public class BaselineCommand extends ProtectionCommand {

    @Option(name = "-H", aliases = "--host", description = "The hypervisor host the domain runs on (default: local)")
    @Completion(HostCompleter.class)
    String host;

    @Argument(index = 0, name = "vm", description = "The domain name", required = true)
    @Completion(DomainCompleter.class)
    String vm;

    @Override
    public Object execute() {
        long start = System.nanoTime();
        DomainBaseline b = protection().baseline(host(host), vm);
        for (RegionBaseline r : b.regions()) {
            System.out.printf("%-12s 0x%x  %-10s sha256 %s%n", r.region().name(), r.region().physicalStart(),
                    Units.bytes(r.region().length()), r.sha256());
        }
        System.out.printf("Baseline of %s on %s taken in %d ms.%n", b.domain(), b.host(),
                (System.nanoTime() - start) / 1_000_000);
        return null;
    }
}
