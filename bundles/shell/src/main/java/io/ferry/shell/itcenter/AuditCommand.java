package io.ferry.shell.itcenter;

import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;

import io.ferry.api.itcenter.AuditEvent;
import io.ferry.api.itcenter.AuditQuery;
import io.ferry.api.itcenter.ItCenter;

@Service
@Command(scope = "itcenter", name = "audit", description = "Shows the IT center's audit log, oldest first, with filters.")
public class AuditCommand extends ItCenterCommand {

    @Option(name = "-a", aliases = "--agent", description = "Only events about this agent (id or name)")
    @Completion(AgentCompleter.class)
    String agent;

    @Option(name = "-v", aliases = "--vm", description = "Only events about this VM")
    String vm;

    @Option(name = "-k", aliases = "--kind", description = "Only events of this kind; 'migration.*' for a family")
    String kind;

    @Option(name = "-s", aliases = "--since",
            description = "Only events since this time: an ISO-8601 instant (2025-01-31T12:00:00Z) or a duration ago (PT1H, P1D)")
    String since;

    @Option(name = "-n", aliases = "--limit", description = "At most this many events, the newest (default 100)")
    int limit = 100;

    @Override
    public Object execute() {
        ItCenter itc = itCenter();
        String agentId = agent == null ? null : Agents.find(itc, agent).id();
        ShellTable table = new ShellTable();
        table.column("Seq");
        table.column("Time");
        table.column("Kind");
        table.column("Agent");
        table.column("VM");
        table.column("Actor");
        table.column("Detail").maxSize(80);
        for (AuditEvent e : itc.audit(new AuditQuery(agentId, vm, kind, since(), limit))) {
            table.addRow().addContent(e.seq(), e.time(), e.kind(), e.agent() == null ? "-" : e.agent(),
                    e.vm() == null ? "-" : e.vm(), e.actor(), e.detail());
        }
        table.print(System.out);
        return null;
    }

    private Instant since() {
        if (since == null) {
            return null;
        }
        try {
            return since.startsWith("P") ? Instant.now().minus(Duration.parse(since)) : Instant.parse(since);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("--since: an ISO-8601 instant or duration, not '" + since + "'");
        }
    }
}
