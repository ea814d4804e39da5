package io.ferry.api.attestation;

/**
 * A known-good measurement of one component at one version, as the IT center publishes it.
 *
 * @param component the component's name, as the agent logs it
 * @param version its version, as the agent logs it
 * @param sha256 the SHA-256 of its content, 64 lower-case hex digits
 */
public record ReferenceValue(String component, String version, String sha256) {

    public ReferenceValue {
        Checks.token("a reference value's component", component);
        Checks.token("a reference value's version", version);
        Checks.sha256Hex("a reference value's digest", sha256);
    }
}
