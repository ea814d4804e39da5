package io.ferry.api.attestation;

import java.time.Instant;

/**
 * The IT center's answer to evidence: its verdict on the agent, whether that reaches the level the caller
 * asked for, and, when it does not, what to install.
 *
 * @param agentId the agent the verdict is about
 * @param time when the IT center judged it
 * @param verdict the verdict
 * @param requiredLevel the level the caller asked for, or null when it asked for none
 * @param qualifies whether the verdict's level is at least {@code requiredLevel} (true when none was asked)
 * @param remediation what to install to qualify; {@link Remediation#NONE} when it qualifies
 */
public record AttestationResult(String agentId, Instant time, Verdict verdict, String requiredLevel,
        boolean qualifies, Remediation remediation) {

    public AttestationResult {
        if (agentId == null || time == null || verdict == null) {
            throw new IllegalArgumentException("an attestation result needs an agent, a time and a verdict");
        }
        remediation = remediation == null ? Remediation.NONE : remediation;
    }
}
