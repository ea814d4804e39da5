package io.ferry.policy.internal;

import java.nio.charset.StandardCharsets;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;

import com.code_intelligence.jazzer.junit.FuzzTest;

import io.ferry.api.attestation.SecurityLevels;
import io.ferry.api.policy.PolicyException;
import io.ferry.fuzz.FuzzRun;

/**
 * Policies arrive with a VM from another agent (migrate-in) and from files: a document is parsed
 * whole or refused with a {@link PolicyException} (a {@code PolicyFormatException} naming fields
 * and lines for YAML), and a JWS that does not verify under the IT center's key is never accepted.
 */
class PolicyDocumentFuzzTest {

    private static final ECPublicKey KEY = key();

    private static ECPublicKey key() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"));
            return (ECPublicKey) g.generateKeyPair().getPublic();
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    @FuzzTest(maxDuration = FuzzRun.BOUND)
    void document(byte[] input) {
        try {
            PolicyParser.parse(new String(input, StandardCharsets.UTF_8), SecurityLevels.DEFAULT);
        } catch (PolicyException refused) {
            // the documented refusal, with the field and line
        }
    }

    @FuzzTest(maxDuration = FuzzRun.BOUND)
    void signed(byte[] input) {
        try {
            new NimbusPolicySigner().verify(new String(input, StandardCharsets.UTF_8), SecurityLevels.DEFAULT, KEY);
            throw new AssertionError("a JWS not signed by the IT center's key was accepted");
        } catch (PolicyException refused) {
            // the documented refusal
        }
    }
}
