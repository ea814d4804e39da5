package io.ferry.attestation.wire;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

import com.code_intelligence.jazzer.junit.FuzzTest;

import io.ferry.fuzz.FuzzRun;

/**
 * Evidence arrives at the IT center as JSON, and peer attestation's frames over a channel: both
 * are read whole or refused — WireFormatException (or the value types' IllegalArgumentException)
 * for JSON, an IOException for frames.
 */
class AttestationWireFuzzTest {

    @FuzzTest(maxDuration = FuzzRun.BOUND)
    void evidence(byte[] input) {
        try {
            AttestationJson.read(new String(input, StandardCharsets.UTF_8), AttestationJson::evidence);
        } catch (IllegalArgumentException refused) {
            // WireFormatException is one
        }
    }

    @FuzzTest(maxDuration = FuzzRun.BOUND)
    void frame(byte[] input) {
        try {
            PeerFrames.read(new ByteArrayInputStream(input), PeerFrames.Type.values());
        } catch (IOException | WireFormatException refused) {
            // the documented refusals
        }
    }
}
