package io.ferry.itcenter.attestation;

import java.sql.PreparedStatement;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import io.ferry.api.attestation.AppraisalPolicy;
import io.ferry.itcenter.internal.Store;

/**
 * For tests outside this bundle (SecureMigrationIT): the IT center's attestation service on a store,
 * an agent's attestation key recorded as enrolment would, and reference values published.
 */
public final class AttestationTestAccess {

    private AttestationTestAccess() {
    }

    /** The attestation service (nonces, verdicts, their record and audit) with this appraisal policy. */
    public static AttestationService service(Store store, AppraisalPolicy policy, int pcr) {
        return new AttestationService(store, new AttestationService.Settings(policy, pcr, Duration.ofSeconds(60),
                Map.of(), null), Clock.systemUTC(), List::of);
    }

    /** Records the agent's attestation key (what enrolment's credential activation proves and stores). */
    public static void enrolAttestationKey(Store store, String agentId, byte[] akPublic) {
        store.transaction(t -> {
            try (PreparedStatement ps = t.connection().prepareStatement("UPDATE agent SET ak_public = ? WHERE id = ?")) {
                ps.setString(1, Base64.getEncoder().encodeToString(akPublic));
                ps.setString(2, agentId);
                if (ps.executeUpdate() != 1) {
                    throw new IllegalArgumentException("no agent " + agentId);
                }
            }
            return null;
        });
    }

    /** Publishes a reference value (what the repository does for a release's components). */
    public static void publish(Store store, String component, String version, String sha256) {
        store.transaction(t -> {
            try (PreparedStatement ps = t.connection().prepareStatement("INSERT INTO reference_value "
                    + "(component, version, sha256, release_name, published_at) VALUES (?, ?, ?, ?, ?)")) {
                ps.setString(1, component);
                ps.setString(2, version);
                ps.setString(3, sha256);
                ps.setString(4, "system");
                ps.setObject(5, Clock.systemUTC().instant().atOffset(ZoneOffset.UTC));
                ps.executeUpdate();
            }
            return null;
        });
    }
}
