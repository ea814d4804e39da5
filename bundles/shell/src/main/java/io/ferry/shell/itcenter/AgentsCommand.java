package io.ferry.shell.itcenter;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;

import io.ferry.api.itcenter.Agent;

@Service
@Command(scope = "itcenter", name = "agents", description = "Lists the agents registered with the IT center.")
public class AgentsCommand extends ItCenterCommand {

    @Override
    public Object execute() {
        ShellTable table = new ShellTable();
        table.column("Name");
        table.column("Id");
        table.column("Owner");
        table.column("Group");
        table.column("Status");
        table.column("Certificate until");
        table.column("Last verdict");
        for (Agent a : itCenter().agents()) {
            table.addRow().addContent(a.name(), a.id(), a.owner(), a.deviceGroup(), a.status(),
                    a.certificateNotAfter(), a.lastVerdict() == null ? "-" : a.lastVerdict());
        }
        table.print(System.out);
        return null;
    }
}
