package io.ferry.api.itcenter;

import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

import io.ferry.api.attestation.ReferenceValue;

/**
 * The IT center's registry, certificate authority and audit log. Every change is recorded in the
 * audit log in the same transaction as the change itself; refused input throws
 * {@link ItCenterException} and changes nothing.
 */
@ProviderType
public interface ItCenter {

    /** All agents, by name. */
    List<Agent> agents();

    /** One agent by id. */
    Optional<Agent> agent(String id);

    /**
     * Registers an agent and issues its first certificate for the key in the registration.
     *
     * @param actor who asked, for the audit log
     */
    Enrolment registerAgent(AgentRegistration registration, String actor);

    /**
     * Issues a new certificate to an active agent for the key in a PKCS#10 request (PEM) whose
     * signature proves possession of that key. Earlier certificates stay valid until they expire.
     */
    IssuedCertificate renew(String agentId, String csrPem, String actor);

    /** Revokes an agent and every certificate it has; returns the revoked serials. */
    List<String> revoke(String agentId, String reason, String actor);

    /**
     * The agent a client certificate chain belongs to: issued by this IT center, within its
     * validity, neither it nor its agent revoked. A refusal is appended to the audit log as
     * {@code access.refused} before the exception is thrown.
     *
     * @param chain  the chain the TLS client presented, leaf first; null or empty when it presented none
     * @param action what the client tried, for the audit log
     * @param peer   the client's address, for the audit log
     */
    Agent authenticate(X509Certificate[] chain, String action, String peer) throws AccessDeniedException;

    /** Appends an event; returns it as stored. */
    AuditEvent audit(AuditEntry entry);

    /** Events matching a filter, oldest first. */
    List<AuditEvent> audit(AuditQuery query);

    /** A freshly signed CRL (DER) listing every revoked certificate. */
    byte[] crl();

    /** The IT center's root certificate, the trust anchor of every agent certificate. */
    X509Certificate rootCertificate();

    /** Published reference values, by component and version. */
    List<ReferenceValue> referenceValues();
}
