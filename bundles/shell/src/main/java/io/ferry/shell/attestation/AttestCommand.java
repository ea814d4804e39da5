package io.ferry.shell.attestation;

import java.util.List;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.ferry.api.attestation.AttestationOutcome;
import io.ferry.api.attestation.Remediation;
import io.ferry.api.attestation.RemoteAttestation;
import io.ferry.shell.support.Services;

@Service
@Command(scope = "attestation", name = "attest",
        description = "Attests this agent to the IT center now: a fresh nonce, a TPM quote with the measurement log, "
                + "the IT center's verdict. With -l, below that level it installs the features the IT center names "
                + "(as feature:install -u), measures and attests again until it qualifies or gives up, saying why.")
public class AttestCommand extends AttestationCommand {

    @Option(name = "-l", aliases = "--level", description = "The security level to reach (e.g. trusted); "
            + "without it, only the verdict (no remediation)")
    @Completion(LevelCompleter.class)
    String level;

    @Option(name = "-r", aliases = "--rounds", description = "At most this many attestations (default 3)")
    int rounds = 3;

    @Override
    void run() {
        RemoteAttestation remote = Services.get(context, RemoteAttestation.class, MISSING);
        AttestationOutcome o = remote.attest(level, level == null ? 1 : rounds, line -> {
            System.out.println(line);
            System.out.flush();
        });
        System.out.println();
        StatusCommand.printResult(o.last());
        if (!o.installed().isEmpty()) {
            System.out.printf("Installed:  %s%n", String.join(", ", o.installed()));
        }
        if (o.gaveUp() != null) {
            System.out.printf("Gave up:    %s%n", o.gaveUp());
        } else if (level != null) {
            System.out.printf("Qualifies:  %s (after %d round%s)%n", level, o.rounds(), o.rounds() == 1 ? "" : "s");
        }
        Remediation r = o.last().remediation();
        List<String> unresolved = r.unresolved();
        if (o.gaveUp() == null && !unresolved.isEmpty()) {
            unresolved.forEach(u -> System.out.printf("Note:       %s%n", u));
        }
    }
}
