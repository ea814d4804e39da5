package io.ferry.shell.seal;

import java.util.stream.Collectors;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.completers.FileCompleter;

import io.ferry.api.seal.Approval;
import io.ferry.api.seal.SealStorage;
import io.ferry.api.updates.ApprovalRenewal;
import io.ferry.shell.support.Services;

@Service
@Command(scope = "seal", name = "approve", description = "Installs an approval signed by the IT center for the "
        + "current PCR values; older approvals stop working. With --from-itcenter the agent attests and asks the "
        + "IT center itself (it approves only the PCR values that attestation proved).")
public class ApproveCommand extends SealCommand {

    @Argument(index = 0, name = "approval-file", description = "The approval file from the IT center")
    @Completion(FileCompleter.class)
    String file;

    @Option(name = "-i", aliases = "--from-itcenter", description = "Attest through the IT center, ask it for an "
            + "approval of the PCR values just proved (POST /api/v1/approvals) and install it")
    boolean fromItCenter;

    @Override
    void run(SealStorage storage) {
        if (fromItCenter == (file != null)) {
            throw new IllegalArgumentException("give either an approval file or --from-itcenter");
        }
        Approval approval;
        if (fromItCenter) {
            ApprovalRenewal renewal = Services.get(context, ApprovalRenewal.class,
                    "no approval renewal: install the ferry-updater feature");
            approval = renewal.renew(System.out::println);
        } else {
            approval = readApproval(file);
            storage.approve(approval);
        }
        System.out.println("Installed approval version " + approval.version() + " for "
                + approval.pcrs().stream().map(p -> "PCR " + p.index() + " = " + p.hex()).collect(Collectors.joining(", ")));
    }
}
