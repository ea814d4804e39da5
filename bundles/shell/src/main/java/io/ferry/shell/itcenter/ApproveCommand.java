package io.ferry.shell.itcenter;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.completers.FileCompleter;

import io.ferry.api.itcenter.ApprovalAuthority;
import io.ferry.api.seal.Approval;
import io.ferry.api.seal.ApprovalRequest;
import io.ferry.shell.support.Services;

@Service
@Command(scope = "itcenter", name = "approve", description = "Approves an agent's platform state for its seal "
        + "storage: signs what the agent's seal:request printed, at a version above every earlier approval of that "
        + "agent, and prints the approval for the agent's seal:approve.")
public class ApproveCommand extends ItCenterCommand {

    @Argument(index = 0, name = "device", required = true, description = "The agent's id or name, or the name of a device not enrolled yet")
    @Completion(AgentCompleter.class)
    String agent;

    @Argument(index = 1, name = "request", required = true, description = "A file with what seal:request printed")
    @Completion(FileCompleter.class)
    String request;

    @Option(name = "-o", aliases = "--output", description = "Write the approval to this file instead of printing it")
    @Completion(FileCompleter.class)
    String output;

    @Override
    public Object execute() throws Exception {
        ApprovalAuthority authority = Services.get(context, ApprovalAuthority.class,
                "the IT center is not running (feature ferry-itcenter)");
        Approval approval = authority.approve(agent, ApprovalRequest.parse(Files.readString(Path.of(request))), actor());
        if (output != null) {
            Files.writeString(Path.of(output), approval.encode(), StandardCharsets.UTF_8);
            System.out.println("Approval version " + approval.version() + " for " + agent + " written to " + output);
        } else {
            System.out.print(approval.encode());
        }
        return null;
    }
}
