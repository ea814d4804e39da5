package io.ferry.api.policy;

import java.security.KeyPair;
import java.security.interfaces.ECPublicKey;

import org.osgi.annotation.versioning.ProviderType;

import io.ferry.api.attestation.SecurityLevels;

/**
 * The policy format and its signature, as a service of the policy bundle for the IT center (which
 * signs) and for tools (which validate). Stateless; every method is a pure function of its input.
 * <p>
 * A signed policy is a JWS (RFC 7515) in compact serialization: protected header
 * {@code {"alg":"ES256","typ":"ferry-policy+jws","cty":"application/yaml","kid":<thumbprint>}},
 * payload the UTF-8 policy document, which names the VM (name, UUID, image digest) and the version.
 */
@ProviderType
public interface PolicySigner {

    /** The JWS {@code typ} of a signed policy. */
    String TYPE = "ferry-policy+jws";

    /**
     * Parses and validates a policy document against Ferry's format and the given security levels.
     *
     * @throws PolicyFormatException listing every invalid field with its line
     */
    Policy parse(String document, SecurityLevels levels);

    /**
     * Validates the document (as {@link #parse}) and signs it with ES256.
     *
     * @param key the IT center's policy-signing key pair, EC P-256 (the public half names the key:
     *            its RFC 7638 thumbprint is the JWS {@code kid})
     * @throws PolicyFormatException when the document is invalid: nothing is signed
     * @throws IllegalArgumentException when the key pair is not EC P-256 or its halves do not match
     */
    SignedPolicy sign(String document, SecurityLevels levels, KeyPair key);

    /**
     * Verifies a signed policy: ES256 only (no other algorithm, no {@code none}), type
     * {@code ferry-policy+jws}, signed by {@code key}, and a valid document. Does not check the
     * VM or version against anything held: {@link PolicyService#importPolicy} does.
     *
     * @throws PolicyException BAD_SIGNATURE, WRONG_KEY or INVALID_DOCUMENT
     */
    SignedPolicy verify(String jws, SecurityLevels levels, ECPublicKey key);
}
