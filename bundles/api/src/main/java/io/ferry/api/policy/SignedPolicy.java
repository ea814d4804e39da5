package io.ferry.api.policy;

import java.util.Objects;

/**
 * A policy with the signed form it came in.
 *
 * @param policy   the parsed policy
 * @param document the policy document (YAML) exactly as signed
 * @param jws      the JWS compact serialization: what is stored, and sent to a migration target
 * @param keyId    the SHA-256 JWK thumbprint (base64url) of the IT center key that signed it
 */
public record SignedPolicy(Policy policy, String document, String jws, String keyId) {

    public SignedPolicy {
        Objects.requireNonNull(policy, "policy");
        Objects.requireNonNull(document, "document");
        Objects.requireNonNull(jws, "jws");
        Objects.requireNonNull(keyId, "keyId");
    }
}
