package io.ferry.api.attestation;

import java.util.List;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The IT center's attestations: single-use nonces, verdicts on evidence against the enrolled attestation
 * key and the published reference values, and their record (its REST API is {@code /api/v1/attestation}).
 */
@ProviderType
public interface Attestations {

    /** The attestations judged, newest first; of one agent (id) or of all (null); at most {@code limit}. */
    List<AttestationRecord> attestations(String agentId, int limit);

    /** The latest attestation of an agent. */
    Optional<AttestationRecord> latest(String agentId);

    /** The configured security levels, lowest first. */
    SecurityLevels levels();
}
