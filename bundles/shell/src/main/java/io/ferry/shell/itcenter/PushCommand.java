package io.ferry.shell.itcenter;

import java.util.List;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;

import io.ferry.api.updates.Update;
import io.ferry.api.updates.UpdateCenter;
import io.ferry.shell.support.Services;

@Service
@Command(scope = "itcenter", name = "push",
        description = "Pushes a published feature version (the latest without /version) to agents: each agent's updater "
                + "installs it from the IT center's repository with upgrade (no restart), renews its seal approval and "
                + "reports the outcome. With --list, shows pushed updates and their outcomes instead.")
public class PushCommand extends ItCenterCommand {

    @Argument(index = 0, name = "feature", description = "The Karaf feature, e.g. ferry-hypervisor-protection, or "
            + "feature/version; without a version the latest published one (with --list: an agent)")
    String feature;

    @Argument(index = 1, name = "agents", description = "Agent ids or names", multiValued = true)
    @Completion(AgentCompleter.class)
    List<String> agents;

    @Option(name = "-r", aliases = "--repository", description = "The features repository URI the agents add first "
            + "(default: the release's repository on this IT center, else the repositories they have)")
    String repository;

    @Option(name = "-l", aliases = "--list", description = "List pushed updates (of the agent named, if one is)")
    boolean list;

    @Override
    public Object execute() {
        UpdateCenter updates = Services.get(context, UpdateCenter.class, "the IT center is not running (feature ferry-itcenter)");
        List<Update> rows;
        if (list) {
            rows = updates.updates(feature, 100);
        } else {
            if (feature == null || agents == null || agents.isEmpty()) {
                throw new IllegalArgumentException("usage: itcenter:push <feature>[/<version>] <agent>...");
            }
            int slash = feature.indexOf('/');
            rows = updates.push(slash < 0 ? feature : feature.substring(0, slash),
                    slash < 0 ? null : feature.substring(slash + 1), repository, agents, actor());
        }
        ShellTable table = new ShellTable();
        table.column("Id");
        table.column("Agent");
        table.column("Feature");
        table.column("Version");
        table.column("State");
        table.column("Pushed");
        table.column("Reported");
        table.column("Detail").maxSize(60);
        for (Update u : rows) {
            table.addRow().addContent(u.id(), u.agent(), u.feature(), u.version(), u.state(), u.pushedAt(),
                    u.reportedAt() == null ? "-" : u.reportedAt(), u.detail() == null ? "" : u.detail());
        }
        table.print(System.out);
        return null;
    }
}
