package io.ferry.shell.tpm;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.ferry.api.tpm.Tpm;

@Service
@Command(scope = "tpm", name = "release",
        description = "Closes the agent's TPM connection (without shutting the TPM down) so that another client, "
                + "e.g. tpm2-tools, can use swtpm; the next TPM call reconnects.")
public class ReleaseCommand extends TpmCommand {

    @Override
    void run(Tpm tpm) {
        tpm.release();
        System.out.println("Released the TPM connection; the next TPM call reconnects.");
    }
}
