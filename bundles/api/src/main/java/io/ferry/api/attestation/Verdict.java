package io.ferry.api.attestation;

import java.util.List;

/**
 * A verifier's judgement of evidence.
 *
 * @param level the security level
 * @param genuine whether the evidence passed every integrity check (signature, quote, nonce, PCR digest,
 *        log replay); when false, the appraisal of components was not trusted and {@link #level} is the lowest
 * @param reasons every finding, integrity findings first; empty for a clean verdict
 * @param failing the components whose measured digest differs from their reference, or that are required
 *        and missing, as {@code name version} (or {@code name} when missing)
 * @param unknown the components without a reference value at their version, as {@code name version}
 */
public record Verdict(String level, boolean genuine, List<Reason> reasons, List<String> failing, List<String> unknown) {

    public Verdict {
        if (level == null || level.isBlank()) {
            throw new IllegalArgumentException("a verdict needs a level");
        }
        reasons = List.copyOf(reasons);
        failing = List.copyOf(failing);
        unknown = List.copyOf(unknown);
    }

    /** Whether a finding of that code is among the reasons. */
    public boolean has(Reason.Code code) {
        return reasons.stream().anyMatch(r -> r.code() == code);
    }

    /** One line per reason, or "no findings". */
    public String explain() {
        return reasons.isEmpty() ? "no findings"
                : String.join("\n", reasons.stream().map(Reason::toString).toList());
    }
}
