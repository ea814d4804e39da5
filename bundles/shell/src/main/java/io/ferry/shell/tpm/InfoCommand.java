package io.ferry.shell.tpm;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.ferry.api.tpm.Tpm;
import io.ferry.api.tpm.TpmInfo;

@Service
@Command(scope = "tpm", name = "info", description = "Shows which TPM this agent uses and how it is reached.")
public class InfoCommand extends TpmCommand {

    @Override
    void run(Tpm tpm) {
        TpmInfo info = tpm.info();
        System.out.printf("Device:        %s%n", info.device());
        System.out.printf("Manufacturer:  %s%n", info.manufacturer());
        System.out.printf("Firmware:      %s%n", info.firmwareVersion());
        System.out.printf("Connected:     %s%n", info.connected() ? "yes" : "no");
    }
}
