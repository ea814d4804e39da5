package io.ferry.api.seal;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Named secrets of any size, each AES-256-GCM encrypted under a 32-byte key-encryption key (KEK)
 * that is sealed in the TPM to a PolicyAuthorize policy of the IT center's approval key. The KEK
 * unseals only with the installed {@link Approval}: a signature by that key over the approved PCR
 * values and a version not older than the newest one the TPM's NV counter has seen. Every method
 * that touches a secret unseals the KEK afresh, so a PCR change takes effect at once.
 * Failures throw {@link SealException} with a {@link SealException.Reason}; nothing stored is
 * changed by a failed call.
 */
@ProviderType
public interface SealStorage {

    /** Device, PCR policy, approval and counter versions, number of secrets. */
    SealStatus status();

    /** The names of the stored secrets, sorted. */
    List<String> list();

    /** Stores (or replaces) a secret: 1 to 128 characters of {@code [A-Za-z0-9._-]}, not starting with a dot. */
    void put(String name, byte[] secret);

    /** A stored secret. */
    byte[] get(String name);

    /** Removes a secret; returns whether there was one. */
    boolean delete(String name);

    /** What the IT center must sign to approve the platform's current PCR values. */
    ApprovalRequest approvalRequest();

    /**
     * Verifies and installs an approval: signed by the configured approval key, not older than the
     * newest seen, for the current PCR values, and accepted by the TPM. The TPM's counter then moves
     * up to its version, so that older approvals no longer unseal anything.
     */
    void approve(Approval approval);

    /**
     * Rotation: a new KEK sealed under the approval-key policy, every secret re-encrypted under it,
     * the old KEK removed. With an approval, installs it first (as {@link #approve}).
     */
    void rotate(Approval approvalOrNull);
}
