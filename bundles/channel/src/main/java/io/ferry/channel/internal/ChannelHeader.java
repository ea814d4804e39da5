package io.ferry.channel.internal;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * The few bytes that open a channel once TLS is up: the opener asks for a purpose, the acceptor
 * answers yes or no with a reason. Read from another machine, so every field is bounded.
 *
 * <pre>
 * request: "FRY1" | u8 length (1..64) | purpose (ASCII: a-z 0-9 -) | 32-byte opener nonce
 * answer:  u8 status (0 accepted, 1 refused) | u8 length | reason (UTF-8, up to 255 bytes)
 *          | 32-byte acceptor nonce (when accepted)
 * </pre>
 *
 * The two nonces make each channel's binding unique even between the same two agents.
 */
final class ChannelHeader {

    static final byte[] MAGIC = { 'F', 'R', 'Y', '1' };
    static final int MAX_PURPOSE = 64;
    static final int NONCE_LENGTH = 32;

    /** What the opener asked for. */
    record Request(String purpose, byte[] nonce) {
    }
    private static final Pattern PURPOSE = Pattern.compile("[a-z0-9][a-z0-9-]{0,63}");

    private ChannelHeader() {
    }

    static void checkPurpose(String purpose) {
        if (purpose == null || !PURPOSE.matcher(purpose).matches()) {
            throw new IllegalArgumentException("invalid channel purpose '" + purpose
                    + "': 1 to 64 characters, a-z 0-9 and -, starting with a letter or digit");
        }
    }

    static void writeRequest(OutputStream out, String purpose, byte[] nonce) throws IOException {
        checkPurpose(purpose);
        byte[] p = purpose.getBytes(StandardCharsets.US_ASCII);
        DataOutputStream data = new DataOutputStream(out);
        data.write(MAGIC);
        data.writeByte(p.length);
        data.write(p);
        data.write(nonce);
        data.flush();
    }

    /** @throws ProtocolException for anything but a well-formed request */
    static Request readRequest(InputStream in) throws IOException {
        DataInputStream data = new DataInputStream(in);
        byte[] magic = new byte[4];
        data.readFully(magic);
        if (!java.util.Arrays.equals(magic, MAGIC)) {
            throw new ProtocolException("not a Ferry channel (bad magic)");
        }
        int length = data.readUnsignedByte();
        if (length < 1 || length > MAX_PURPOSE) {
            throw new ProtocolException("purpose length " + length + " out of range");
        }
        byte[] p = new byte[length];
        data.readFully(p);
        String purpose = new String(p, StandardCharsets.US_ASCII);
        if (!PURPOSE.matcher(purpose).matches()) {
            throw new ProtocolException("invalid purpose");
        }
        byte[] nonce = new byte[NONCE_LENGTH];
        data.readFully(nonce);
        return new Request(purpose, nonce);
    }

    static void writeRefusal(OutputStream out, String reason) throws IOException {
        writeAnswer(out, false, reason, null);
    }

    static void writeAcceptance(OutputStream out, byte[] nonce) throws IOException {
        writeAnswer(out, true, "", nonce);
    }

    private static void writeAnswer(OutputStream out, boolean accepted, String reason, byte[] nonce)
            throws IOException {
        byte[] r = reason.getBytes(StandardCharsets.UTF_8);
        if (r.length > 255) {
            r = java.util.Arrays.copyOf(r, 255);
        }
        DataOutputStream data = new DataOutputStream(out);
        data.writeByte(accepted ? 0 : 1);
        data.writeByte(r.length);
        data.write(r);
        if (accepted) {
            data.write(nonce);
        }
        data.flush();
    }

    /**
     * Returns the acceptor's nonce.
     *
     * @throws Refused with the peer's reason when it refused
     */
    static byte[] readAnswer(InputStream in) throws IOException {
        DataInputStream data = new DataInputStream(in);
        int status = data.readUnsignedByte();
        int length = data.readUnsignedByte();
        byte[] r = new byte[length];
        data.readFully(r);
        if (status == 0) {
            byte[] nonce = new byte[NONCE_LENGTH];
            data.readFully(nonce);
            return nonce;
        }
        if (status != 1) {
            throw new ProtocolException("unknown answer status " + status);
        }
        throw new Refused(new String(r, StandardCharsets.UTF_8));
    }

    /** The peer refused the channel's purpose. */
    static final class Refused extends IOException {
        private static final long serialVersionUID = 1L;

        Refused(String reason) {
            super(reason);
        }
    }

    /** The peer broke the channel protocol. */
    static final class ProtocolException extends IOException {
        private static final long serialVersionUID = 1L;

        ProtocolException(String message) {
            super(message);
        }
    }
}
