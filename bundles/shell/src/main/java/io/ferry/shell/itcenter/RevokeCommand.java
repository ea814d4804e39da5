package io.ferry.shell.itcenter;

import java.util.List;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.ferry.api.itcenter.Agent;
import io.ferry.api.itcenter.ItCenter;

@Service
@Command(scope = "itcenter", name = "revoke",
        description = "Revokes an agent: every certificate it has goes on the CRL, and it can no longer authenticate or renew.")
public class RevokeCommand extends ItCenterCommand {

    @Argument(index = 0, name = "agent", required = true, description = "The agent's id or name")
    @Completion(AgentCompleter.class)
    String agent;

    @Option(name = "-r", aliases = "--reason", description = "Why, for the audit log")
    String reason = "revoked by the administrator";

    @Override
    public Object execute() {
        ItCenter itc = itCenter();
        Agent a = Agents.find(itc, agent);
        List<String> serials = itc.revoke(a.id(), reason, actor());
        System.out.println("Revoked agent " + a.name() + " (" + a.id() + "): " + serials.size() + " certificate(s) "
                + String.join(", ", serials));
        return null;
    }
}
