package io.ferry.api.tpm;

import java.util.List;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The device's TPM 2.0. All callers share one connection: commands are serialized, every
 * transient object or session a method creates is flushed before it returns, and keys without a
 * password are created with {@code noDA} so that normal use never counts towards
 * dictionary-attack lockout. PCRs are those of the SHA-256 bank. A failure throws a
 * {@link TpmException} naming the operation; {@link TpmUnavailableException} when the TPM
 * cannot be reached or was restarted under the connection (the next call reconnects).
 */
@ProviderType
public interface Tpm {

    /**
     * Flushes Ferry's transient objects and closes the connection without shutting the TPM down,
     * so that another client (tpm2-tools; swtpm serves one at a time) can use it. The next call
     * reconnects.
     */
    void release();

    /** What TPM this is and how it is reached. */
    TpmInfo info();

    /** The current values of the given PCRs (SHA-256 bank), in the order asked. */
    List<Pcr> readPcrs(int... indexes);

    /**
     * Extends a PCR of the SHA-256 bank with a 32-byte digest: new = SHA-256(old || digest).
     * Returns the new value.
     */
    Pcr extendPcr(int index, byte[] sha256Digest);

    /** The storage root key (ECC P-256 in the owner hierarchy), parent of every key and sealed object. */
    TpmPublic storageRootKey();

    /** The attestation key: a restricted ECDSA P-256 signing key, primary in the endorsement hierarchy. */
    TpmPublic attestationKey();

    /** The endorsement key (the standard RSA 2048 EK template, as swtpm_setup and tpm2_createek make it). */
    TpmPublic endorsementKey();

    /** The EK certificate (DER X.509) from NV index 0x01C00002, if the manufacturer stored one. */
    Optional<byte[]> endorsementCertificate();

    /** Creates a non-restricted ECDSA P-256 signing key under the storage root key. */
    KeyBlob createSigningKey();

    /** The public part of a key or sealed object. */
    TpmPublic publicOf(KeyBlob key);

    /** Signs a SHA-256 digest with a signing key; the signature is DER (as {@code SHA256withECDSA} takes it). */
    byte[] sign(KeyBlob key, byte[] sha256Digest);

    /**
     * Seals up to {@link #MAX_SEALED_BYTES} bytes under the storage root key so that only a policy
     * session whose digest equals {@code policyDigest} can unseal them.
     */
    KeyBlob seal(byte[] secret, byte[] policyDigest);

    /**
     * Unseals a sealed object in a policy session that runs the given steps in order.
     *
     * @throws TpmPolicyException when the TPM refuses the policy (PCR values changed, the NV check
     *         fails, the authorization's signature does not verify)
     */
    byte[] unseal(KeyBlob sealed, List<PolicyStep> policy);

    /** The most bytes {@link #seal} takes. */
    int MAX_SEALED_BYTES = 128;

    /** A quote of the given PCRs by the attestation key over the qualifying data (a nonce). */
    Quote quote(byte[] qualifyingData, int... pcrs);

    /** The attestation key certifies that {@code key} lives in this TPM (TPM2_Certify). */
    Attestation certify(KeyBlob key, byte[] qualifyingData);

    /**
     * TPM2_ActivateCredential with the attestation key and the endorsement key: returns the secret
     * that a verifier bound to the AK's name with MakeCredential.
     *
     * @param integrityHmac the credential's integrityHMAC (of the TPMS_ID_OBJECT, without its size)
     * @param encIdentity the credential's encIdentity (without its size)
     * @param encryptedSecret the encrypted seed (the bytes of a TPM2B_ENCRYPTED_SECRET without the size)
     */
    byte[] activateCredential(byte[] integrityHmac, byte[] encIdentity, byte[] encryptedSecret);

    /**
     * The NV counter at {@code nvIndex}, defined (read and increment with an empty password,
     * noDA) and initialised by a first increment if it does not exist yet.
     */
    NvCounter counter(int nvIndex);

    /** Increments an NV counter once and returns it. */
    NvCounter incrementCounter(int nvIndex);

    /** The TPM name of an external public key (RSA or EC P-256) as it would be loaded for VerifySignature. */
    byte[] nameOf(java.security.PublicKey key);
}
