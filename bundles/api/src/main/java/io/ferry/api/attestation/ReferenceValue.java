package io.ferry.api.attestation;

import java.time.Instant;

/**
 * A known-good measurement of one component at one version, as the IT center publishes it: the one type
 * for reference values, used by the verifier (component, version, digest) and by the IT center's registry
 * and repository (which release published it, and when).
 *
 * @param component the component's name, as the agent logs it: a bundle's symbolic name or a binary's file
 *        name (e.g. {@code qemu-system-x86_64})
 * @param version its version, as the agent logs it
 * @param sha256 the SHA-256 of its content, 64 lower-case hex digits (for a bundle, its
 *        {@code BundleDigest})
 * @param release the release that published it, or null for a value not (yet) published in a release
 * @param publishedAt when it was published, or null with {@code release}
 */
public record ReferenceValue(String component, String version, String sha256, String release, Instant publishedAt) {

    public ReferenceValue {
        Checks.token("a reference value's component", component);
        Checks.token("a reference value's version", version);
        Checks.sha256Hex("a reference value's digest", sha256);
        if (release != null) {
            Checks.token("a reference value's release", release);
        }
    }

    /** A reference value outside any release (tests, values entered by hand). */
    public ReferenceValue(String component, String version, String sha256) {
        this(component, version, sha256, null, null);
    }
}
