package io.ferry.shell.protection;

import java.util.List;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;

import io.ferry.api.protection.DomainBaseline;
import io.ferry.api.protection.ProtectedRegion;
import io.ferry.api.protection.RegionBaseline;
import io.ferry.shell.vm.DomainCompleter;
import io.ferry.shell.vm.HostCompleter;
import io.ferry.shell.support.Units;

@Service
@Command(scope = "protection", name = "regions",
        description = "Locates a running domain's protected regions now (the kernel text moves with KASLR) and shows them beside its baseline.")
public class RegionsCommand extends ProtectionCommand {

    @Option(name = "-H", aliases = "--host", description = "The hypervisor host the domain runs on (default: local)")
    @Completion(HostCompleter.class)
    String host;

    @Argument(index = 0, name = "vm", description = "The domain name", required = true)
    @Completion(DomainCompleter.class)
    String vm;

    @Override
    public Object execute() {
        String h = host(host);
        List<ProtectedRegion> now = protection().regions(h, vm);
        DomainBaseline b = protection().baselines().stream()
                .filter(x -> x.host().equals(h) && x.domain().equals(vm)).findFirst().orElse(null);
        ShellTable table = new ShellTable();
        table.column("Region");
        table.column("Virtual");
        table.column("Physical");
        table.column("Size");
        table.column("Found by");
        table.column("Baseline SHA-256");
        for (ProtectedRegion r : now) {
            String sha = "-";
            if (b != null) {
                for (RegionBaseline rb : b.regions()) {
                    if (rb.region().equals(r)) {
                        sha = rb.sha256();
                    } else if (rb.region().name().equals(r.name())) {
                        sha = "moved since the baseline (guest rebooted?)";
                    }
                }
            }
            table.addRow().addContent(r.name(), r.virtualStart() == 0 ? "-" : String.format("0x%x", r.virtualStart()),
                    String.format("0x%x", r.physicalStart()), Units.bytes(r.length()), r.source(), sha);
        }
        table.print(System.out);
        if (b == null) {
            System.out.println("No baseline yet: protection:baseline " + vm + " takes one.");
        }
        return null;
    }
}
