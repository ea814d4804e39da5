package io.ferry.shell.seal;

import java.util.stream.Collectors;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.ferry.api.seal.SealStatus;
import io.ferry.api.seal.SealStorage;

@Service
@Command(scope = "seal", name = "status",
        description = "Shows the TPM device, the PCR policy, the installed approval and the number of sealed secrets.")
public class StatusCommand extends SealCommand {

    @Override
    void run(SealStorage storage) {
        SealStatus s = storage.status();
        System.out.printf("Device:           %s%n", s.device());
        System.out.printf("PCR policy:       %s (sha256), authorized by the approval key%n",
                s.pcrs().stream().map(i -> "PCR " + i).collect(Collectors.joining(", ")));
        System.out.printf("Approval key:     %s%n", s.approvalKey());
        System.out.printf("Approval version: %s%n", s.approvalVersion() < 0 ? "none installed" : s.approvalVersion());
        System.out.printf("Newest seen:      %d (TPM NV counter)%n", s.counterValue());
        System.out.printf("KEK generation:   %d%n", s.kekGeneration());
        System.out.printf("Secrets:          %s%n", s.secrets() < 0 ? "?" : s.secrets());
        System.out.printf("Unsealable:       %s%n", s.unsealable() ? "yes" : "no: " + s.problem());
    }
}
