package io.ferry.checkpoint.internal;

import java.io.ByteArrayInputStream;
import java.io.IOException;

import com.code_intelligence.jazzer.junit.FuzzTest;

import io.ferry.fuzz.FuzzRun;

/** A checkpoint stream comes from the primary agent: its header is read whole or refused with an IOException. */
class CheckpointHeaderFuzzTest {

    @FuzzTest(maxDuration = FuzzRun.BOUND)
    void header(byte[] input) {
        try {
            Header.read(new ByteArrayInputStream(input));
        } catch (IOException refused) {
            // EOF, or CorruptCheckpointException
        }
    }
}
