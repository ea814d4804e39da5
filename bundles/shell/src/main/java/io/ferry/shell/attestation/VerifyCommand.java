package io.ferry.shell.attestation;

import java.time.Duration;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.ferry.api.attestation.Reason;
import io.ferry.api.attestation.RemoteAttestation;
import io.ferry.api.attestation.Verdict;
import io.ferry.api.channel.AgentAddress;
import io.ferry.shell.support.Services;

@Service
@Command(scope = "attestation", name = "verify",
        description = "Gets a fresh verdict on another agent: opens a channel to it, has it quote a nonce the IT center "
                + "issued for it, bound to that channel, and shows the IT center's verdict.")
public class VerifyCommand extends AttestationCommand {

    @Argument(index = 0, name = "agent", required = true,
            description = "The agent to verify, as agent@host:port (its id, and where it accepts channels)")
    String agent;

    @Option(name = "-t", aliases = "--timeout", description = "Seconds to wait for the channel and the answer (default 30)")
    int timeout = 30;

    @Override
    void run() {
        AgentAddress address = AgentAddress.parse(agent);
        RemoteAttestation remote = Services.get(context, RemoteAttestation.class, MISSING);
        Verdict v = remote.verifyPeer(address, Duration.ofSeconds(timeout));
        System.out.printf("Agent:      %s%n", address.agentId());
        System.out.printf("Verdict:    %s%s%n", v.level(), v.genuine() ? "" : " (evidence NOT genuine)");
        if (!v.failing().isEmpty()) {
            System.out.printf("Failing:    %s%n", String.join(", ", v.failing()));
        }
        if (!v.unknown().isEmpty()) {
            System.out.printf("Unknown:    %s%n", String.join(", ", v.unknown()));
        }
        for (Reason r : v.reasons()) {
            System.out.printf("  %-20s %s%n", r.code(), r.message());
        }
    }
}
