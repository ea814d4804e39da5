package io.ferry.attestation.wire;

import io.ferry.api.attestation.Evidence;

/**
 * {@code POST /api/v1/attestation/verdicts}: evidence for a nonce the caller was granted.
 *
 * @param agent the agent the evidence is from (the nonce's agent); null for the caller itself
 * @param requiredLevel the level the caller needs, for the remediation; null for a verdict only
 * @param evidence the evidence
 */
public record EvidenceSubmission(String agent, String requiredLevel, Evidence evidence) {
}
