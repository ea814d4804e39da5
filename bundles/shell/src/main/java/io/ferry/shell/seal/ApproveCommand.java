package io.ferry.shell.seal;

import java.util.stream.Collectors;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.completers.FileCompleter;

import io.ferry.api.seal.Approval;
import io.ferry.api.seal.SealStorage;

@Service
@Command(scope = "seal", name = "approve", description = "Installs an approval signed by the IT center for the "
        + "current PCR values; older approvals stop working.")
public class ApproveCommand extends SealCommand {

    @Argument(index = 0, name = "approval-file", description = "The approval file from the IT center", required = true)
    @Completion(FileCompleter.class)
    String file;

    @Override
    void run(SealStorage storage) {
        Approval approval = readApproval(file);
        storage.approve(approval);
        System.out.println("Installed approval version " + approval.version() + " for "
                + approval.pcrs().stream().map(p -> "PCR " + p.index() + " = " + p.hex()).collect(Collectors.joining(", ")));
    }
}
