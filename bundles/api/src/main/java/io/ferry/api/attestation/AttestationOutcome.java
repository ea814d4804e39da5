package io.ferry.api.attestation;

import java.util.List;

/**
 * How {@link RemoteAttestation#attest} ended.
 *
 * @param last the IT center's last result
 * @param rounds how many attestations were made
 * @param installed the features installed on the way, as {@code feature/version}
 * @param gaveUp why it stopped below the level asked for, or null when it qualifies
 */
public record AttestationOutcome(AttestationResult last, int rounds, List<String> installed, String gaveUp) {

    public AttestationOutcome {
        installed = List.copyOf(installed);
    }

    /** Whether the last verdict reaches the level asked for. */
    public boolean qualifies() {
        return last.qualifies();
    }
}
