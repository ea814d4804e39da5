package io.ferry.policy.internal;

import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;

import io.ferry.api.attestation.SecurityLevels;

/** The paper's scenario as a policy document, and keys. */
final class Fixtures {

    /** A configured ordering finer than the verifier's default (security.levels of io.ferry.policy). */
    static final SecurityLevels LEVELS = new SecurityLevels(java.util.List.of("untrusted", "basic", "measured",
            "attested"));
    static final String UUID = "3f6c1a52-8d2e-4c1b-9a7e-2b5d4e6f7a81";
    static final String DIGEST = "sha256:" + "ab".repeat(32);

    /** Line numbers matter to the parser tests: keep the layout. */
    static final String POLICY = """
            ferry-policy: 1
            version: 3
            vm:
              name: alice-desktop
              uuid: 3f6c1a52-8d2e-4c1b-9a7e-2b5d4e6f7a81
              image-digest: sha256:abababababababababababababababababababababababababababababababab
            owner: alice
            roles:
              family: [bob, carol]
              it-admins: [dave]
            device-groups:
              alice-devices: [alice-mid, alice-laptop]
            valid:
              from: 2026-01-01T00:00:00Z
              until: 2027-01-01T00:00:00Z
            rules:
              - id: owner-own-devices
                effect: allow
                direction: both
                roles: [owner]
                groups: [alice-devices]
                min-target-level: measured
                min-source-level: measured
                description: The owner moves the VM between the owner's own devices.
              - id: family-home-pc
                effect: allow
                direction: out
                roles: [family]
                devices: [home-pc]
                min-target-level: attested
              - id: admins-maintenance
                effect: allow
                direction: out
                roles: [it-admins]
                groups: [maintenance]
                min-target-level: basic
                valid:
                  from: 2026-06-01T00:00:00Z
                  until: 2026-06-02T00:00:00Z
              - id: never-public
                effect: deny
                direction: both
                users: ["*"]
                groups: [public]
              - id: no-carol-laptop
                effect: deny
                direction: out
                users: [carol]
                devices: [alice-laptop]
            """;

    private Fixtures() {
    }

    /** The document with version {@code v}. */
    static String version(long v) {
        return POLICY.replace("version: 3", "version: " + v);
    }

    static KeyPair p256() {
        return ec("secp256r1");
    }

    static KeyPair ec(String curve) {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec(curve));
            return g.generateKeyPair();
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
