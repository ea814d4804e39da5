package io.ferry.migration.internal;

import java.io.ByteArrayInputStream;
import java.io.IOException;

import com.code_intelligence.jazzer.junit.FuzzTest;

import io.ferry.fuzz.FuzzRun;

/** The migration protocol's messages come from the other agent: read whole, or refused with an IOException. */
class MigrationWireFuzzTest {

    @FuzzTest(maxDuration = FuzzRun.BOUND)
    void message(byte[] input) {
        ByteArrayInputStream in = new ByteArrayInputStream(input);
        try {
            while (in.available() > 0) {
                Wire.read(in);
            }
        } catch (IOException refused) {
            // EOF, or the protocol's own refusal
        }
    }
}
