package io.ferry.shell.attestation;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.ferry.api.attestation.AttestationResult;
import io.ferry.api.attestation.MeasurementStatus;
import io.ferry.api.attestation.Reason;
import io.ferry.api.attestation.Remediation;
import io.ferry.api.attestation.RemoteAttestation;
import io.ferry.api.attestation.Verdict;
import io.ferry.shell.support.Services;

@Service
@Command(scope = "attestation", name = "status",
        description = "Shows whether the measurement log replays to the PCR and this agent's latest verdict as the IT "
                + "center recorded it, with its reasons.")
public class StatusCommand extends AttestationCommand {

    @Override
    void run() {
        MeasurementStatus s = measurer().status();
        System.out.printf("Measurement: %d events since the TPM's last reset; the log %s PCR %d%s%n", s.events(),
                s.replays() ? "replays to" : "does NOT replay to", s.pcr(), s.problem() == null ? "" : " (" + s.problem() + ")");
        RemoteAttestation remote = Services.get(context, RemoteAttestation.class, MISSING);
        remote.latest().ifPresentOrElse(StatusCommand::printResult,
                () -> System.out.println("Verdict:    none yet (attestation:attest asks the IT center for one)"));
    }

    static void printResult(AttestationResult r) {
        Verdict v = r.verdict();
        System.out.printf("Verdict:    %s%s, %s%n", v.level(), v.genuine() ? "" : " (evidence NOT genuine)", r.time());
        if (r.requiredLevel() != null) {
            System.out.printf("Required:   %s: %s%n", r.requiredLevel(), r.qualifies() ? "qualifies" : "does NOT qualify");
        }
        if (!v.failing().isEmpty()) {
            System.out.printf("Failing:    %s%n", String.join(", ", v.failing()));
        }
        if (!v.unknown().isEmpty()) {
            System.out.printf("Unknown:    %s%n", String.join(", ", v.unknown()));
        }
        for (Reason reason : v.reasons()) {
            System.out.printf("  %-20s %s%n", reason.code(), reason.message());
        }
        Remediation rem = r.remediation();
        for (Remediation.FeatureUpdate u : rem.features()) {
            System.out.printf("Remediate:  install %s/%s (for %s)%n", u.feature(), u.version(), u.component());
        }
        if (rem.repository() != null) {
            System.out.printf("Repository: %s%n", rem.repository());
        }
        for (String u : rem.unresolved()) {
            System.out.printf("Unresolved: %s%n", u);
        }
    }
}
