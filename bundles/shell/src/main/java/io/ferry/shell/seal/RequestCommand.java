package io.ferry.shell.seal;

import java.util.HexFormat;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.ferry.api.seal.ApprovalRequest;
import io.ferry.api.seal.SealStorage;
import io.ferry.api.tpm.Pcr;

@Service
@Command(scope = "seal", name = "request", description = "Shows what the IT center must sign to approve the "
        + "platform's current PCR values: the values, the TPM counter's name and the lowest version allowed.")
public class RequestCommand extends SealCommand {

    @Override
    void run(SealStorage storage) {
        ApprovalRequest r = storage.approvalRequest();
        for (Pcr p : r.pcrs()) {
            System.out.println("pcr." + p.index() + ": " + p.hex());
        }
        System.out.printf("counter.index: 0x%08x%n", r.counterIndex());
        System.out.println("counter.name: " + HexFormat.of().formatHex(r.counterName()));
        System.out.println("minimum.version: " + r.minimumVersion());
    }
}
