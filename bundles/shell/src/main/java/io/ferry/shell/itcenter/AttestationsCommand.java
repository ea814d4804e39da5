package io.ferry.shell.itcenter;

import java.util.stream.Collectors;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;

import io.ferry.api.attestation.AttestationRecord;
import io.ferry.api.attestation.AttestationResult;
import io.ferry.api.attestation.Attestations;
import io.ferry.api.attestation.Reason;
import io.ferry.shell.support.Services;

@Service
@Command(scope = "itcenter", name = "attestations",
        description = "Shows the attestations the IT center judged, newest first: agent, who asked, level, whether the "
                + "evidence was genuine, the level asked for, and the findings.")
public class AttestationsCommand extends ItCenterCommand {

    @Option(name = "-a", aliases = "--agent", description = "Only attestations of this agent (id or name)")
    @Completion(AgentCompleter.class)
    String agent;

    @Option(name = "-n", aliases = "--limit", description = "At most this many (default 50)")
    int limit = 50;

    @Option(name = "-v", aliases = "--verbose", description = "Every finding and the remediation, one per line")
    boolean verbose;

    @Override
    public Object execute() {
        String agentId = agent == null ? null : Agents.find(itCenter(), agent).id();
        Attestations attestations = Services.get(context, Attestations.class,
                "the IT center's attestation service is not running (feature ferry-itcenter)");
        ShellTable table = new ShellTable();
        table.column("Seq");
        table.column("Time");
        table.column("Agent");
        table.column("Requester");
        table.column("Level");
        table.column("Genuine");
        table.column("Required");
        table.column("Findings").maxSize(verbose ? 200 : 70);
        for (AttestationRecord r : attestations.attestations(agentId, limit)) {
            AttestationResult res = r.result();
            String findings = res.verdict().reasons().stream().filter(x -> x.code() != Reason.Code.SUPERSEDED)
                    .map(x -> verbose ? x.toString() : x.code() + (x.component() == null ? "" : " " + x.component()))
                    .collect(Collectors.joining(verbose ? "\n" : ", "));
            if (verbose) {
                findings += res.remediation().features().stream().map(f -> "\nremediation: install " + f)
                        .collect(Collectors.joining());
            }
            table.addRow().addContent(r.seq(), res.time(), res.agentId(), r.requester() + (r.peer() ? " (peer)" : ""),
                    res.verdict().level(), res.verdict().genuine() ? "yes" : "NO",
                    res.requiredLevel() == null ? "-" : res.requiredLevel() + (res.qualifies() ? "" : " (not met)"),
                    findings.isEmpty() ? "-" : findings);
        }
        table.print(System.out);
        return null;
    }
}
