package io.ferry.shell.seal;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.ferry.api.seal.SealStorage;

@Service
@Command(scope = "seal", name = "request", description = "Shows what the IT center must sign to approve the "
        + "platform's current PCR values: the values, the TPM counter's name and the lowest version allowed.")
public class RequestCommand extends SealCommand {

    @Override
    void run(SealStorage storage) {
        // the text form the IT center reads (itcenter:approve, POST /api/v1/approvals)
        System.out.print(storage.approvalRequest().encode());
    }
}
