package io.ferry.shell.vm;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;

import io.ferry.api.hypervisor.DomainSummary;
import io.ferry.api.hypervisor.Hypervisor;
import io.ferry.shell.support.Units;

@Service
@Command(scope = "vm", name = "list", description = "Lists the domains of a hypervisor host with their state.")
public class ListCommand extends VmCommand {

    @Override
    public Object execute() {
        Hypervisor hv = hypervisor();
        ShellTable table = new ShellTable();
        table.column("Name");
        table.column("State");
        table.column("Memory");
        table.column("vCPUs");
        table.column("UUID");
        for (DomainSummary d : hv.listDomains()) {
            table.addRow().addContent(d.name(), d.state(), Units.bytes(d.memoryKiB() * 1024), d.vcpus(), d.uuid());
        }
        System.out.println("Host " + hv.hostName() + " (" + hv.uri() + ")");
        table.print(System.out);
        return null;
    }
}
