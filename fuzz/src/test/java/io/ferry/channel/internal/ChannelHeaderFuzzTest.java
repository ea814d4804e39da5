package io.ferry.channel.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.util.Arrays;

import com.code_intelligence.jazzer.junit.FuzzTest;

import io.ferry.fuzz.FuzzRun;

/**
 * The bytes that open a channel come from whoever connects: a request or an answer may only be
 * read whole or refused with the protocol's own exceptions, and what is read must be exactly what
 * was sent.
 */
class ChannelHeaderFuzzTest {

    @FuzzTest(maxDuration = FuzzRun.BOUND)
    void request(byte[] input) throws IOException {
        ChannelHeader.Request request;
        try {
            request = ChannelHeader.readRequest(new ByteArrayInputStream(input));
        } catch (EOFException | ChannelHeader.ProtocolException refused) {
            return;
        }
        ByteArrayOutputStream again = new ByteArrayOutputStream();
        ChannelHeader.writeRequest(again, request.purpose(), request.nonce());
        assertArrayEquals(Arrays.copyOf(input, again.size()), again.toByteArray(), "a request read is the request sent");
    }

    @FuzzTest(maxDuration = FuzzRun.BOUND)
    void answer(byte[] input) throws IOException {
        try {
            byte[] nonce = ChannelHeader.readAnswer(new ByteArrayInputStream(input));
            if (nonce.length != ChannelHeader.NONCE_LENGTH) {
                throw new AssertionError("an accepted answer carries a " + ChannelHeader.NONCE_LENGTH
                        + "-byte nonce, not " + nonce.length);
            }
        } catch (EOFException | ChannelHeader.ProtocolException | ChannelHeader.Refused refused) {
            // the only ways a malformed or refusing answer may end
        }
    }
}
