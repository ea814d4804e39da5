package io.ferry.shell.itcenter;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.completers.FileCompleter;

import io.ferry.api.itcenter.ApprovalAuthority;
import io.ferry.api.seal.Approval;
import io.ferry.api.seal.ApprovalRequest;
import io.ferry.api.tpm.Pcr;
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
        Approval approval = authority.approve(agent, parse(Files.readString(Path.of(request))), actor());
        if (output != null) {
            Files.writeString(Path.of(output), approval.encode(), StandardCharsets.UTF_8);
            System.out.println("Approval version " + approval.version() + " for " + agent + " written to " + output);
        } else {
            System.out.print(approval.encode());
        }
        return null;
    }

    /** What seal:request prints: pcr.N, counter.index, counter.name, minimum.version. */
    static ApprovalRequest parse(String text) {
        List<Pcr> pcrs = new ArrayList<>();
        Integer index = null;
        byte[] name = null;
        Long minimum = null;
        for (String raw : text.split("\n")) {
            String line = raw.strip();
            int colon = line.indexOf(':');
            if (line.isEmpty() || line.startsWith("#") || colon < 0) {
                continue;
            }
            String key = line.substring(0, colon).strip();
            String value = line.substring(colon + 1).strip();
            try {
                switch (key) {
                    case "counter.index" -> index = Integer.parseUnsignedInt(value.replaceFirst("^0x", ""), 16);
                    case "counter.name" -> name = HexFormat.of().parseHex(value);
                    case "minimum.version" -> minimum = Long.parseLong(value);
                    default -> {
                        if (key.startsWith("pcr.")) {
                            pcrs.add(new Pcr(Integer.parseInt(key.substring(4)), HexFormat.of().parseHex(value)));
                        }
                    }
                }
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("the request's " + key + " is not valid: " + value, e);
            }
        }
        if (pcrs.isEmpty() || index == null || name == null || minimum == null) {
            throw new IllegalArgumentException("not a seal:request output: it needs pcr.N, counter.index, "
                    + "counter.name and minimum.version lines");
        }
        return new ApprovalRequest(pcrs, index, name, minimum);
    }
}
