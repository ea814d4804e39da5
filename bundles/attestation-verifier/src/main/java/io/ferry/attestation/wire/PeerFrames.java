package io.ferry.attestation.wire;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import io.ferry.api.attestation.Evidence;

/**
 * The peer-attestation exchange on a channel: small, length-prefixed frames, read strictly.
 *
 * <pre>
 * frame   = magic "FPA1" (4 bytes) | type (1 byte) | length (4 bytes, big-endian) | payload
 * REQUEST  (1): the IT center's nonce, exactly 32 bytes            attestPeer → answer
 * EVIDENCE (2): evidence as JSON (AttestationJson), at most 1 MiB   answer → attestPeer
 * REFUSED  (3): why the answering side cannot attest, UTF-8, at most 1 KiB
 * </pre>
 *
 * The binding is not sent: each side takes it from its own end of the channel, so a relay's other
 * channel gives another value. A wrong magic, an unknown or unexpected type, a length above the type's
 * limit or a stream that ends inside a frame is a {@link WireFormatException}.
 */
public final class PeerFrames {

    static final byte[] MAGIC = "FPA1".getBytes(StandardCharsets.US_ASCII);
    public static final int MAX_EVIDENCE_BYTES = 1024 * 1024;
    public static final int MAX_REFUSAL_BYTES = 1024;

    /** A frame's type and its size limit. */
    public enum Type {
        REQUEST(1, Evidence.NONCE_BYTES), EVIDENCE(2, MAX_EVIDENCE_BYTES), REFUSED(3, MAX_REFUSAL_BYTES);

        final int code;
        final int max;

        Type(int code, int max) {
            this.code = code;
            this.max = max;
        }
    }

    /** One frame read. */
    public record Frame(Type type, byte[] payload) {

        public String text() {
            return new String(payload, StandardCharsets.UTF_8);
        }
    }

    private PeerFrames() {
    }

    public static void write(OutputStream out, Type type, byte[] payload) throws IOException {
        if (payload.length > type.max || (type == Type.REQUEST && payload.length != Evidence.NONCE_BYTES)) {
            throw new IllegalArgumentException(type + " payload of " + payload.length + " bytes (at most " + type.max + ")");
        }
        ByteBuffer b = ByteBuffer.allocate(9);
        b.put(MAGIC).put((byte) type.code).putInt(payload.length);
        out.write(b.array());
        out.write(payload);
        out.flush();
    }

    /** A REFUSED frame, its text cut to the limit. */
    public static void refuse(OutputStream out, String why) throws IOException {
        byte[] b = why.getBytes(StandardCharsets.UTF_8);
        if (b.length > MAX_REFUSAL_BYTES) {
            b = java.util.Arrays.copyOf(b, MAX_REFUSAL_BYTES);
        }
        write(out, Type.REFUSED, b);
    }

    /**
     * Reads one frame of one of the expected types.
     *
     * @throws WireFormatException for anything but such a frame
     * @throws EOFException when the stream ends before a frame starts
     */
    public static Frame read(InputStream in, Type... expected) throws IOException {
        DataInputStream d = new DataInputStream(in);
        byte[] header = new byte[9];
        int first = d.read();
        if (first < 0) {
            throw new EOFException("the peer closed the channel");
        }
        header[0] = (byte) first;
        try {
            d.readFully(header, 1, 8);
        } catch (EOFException e) {
            throw new WireFormatException("the channel ended inside a frame header");
        }
        ByteBuffer b = ByteBuffer.wrap(header);
        byte[] magic = new byte[4];
        b.get(magic);
        if (!java.util.Arrays.equals(magic, MAGIC)) {
            throw new WireFormatException("not a peer-attestation frame (magic " + java.util.HexFormat.of().formatHex(magic) + ")");
        }
        int code = b.get() & 0xff;
        Type type = null;
        for (Type t : expected) {
            if (t.code == code) {
                type = t;
            }
        }
        if (type == null) {
            throw new WireFormatException("unexpected frame type " + code + " (expected " + java.util.List.of(expected) + ")");
        }
        long length = b.getInt() & 0xffffffffL;
        if (length > type.max || (type == Type.REQUEST && length != Evidence.NONCE_BYTES)) {
            throw new WireFormatException(type + " frame of " + length + " bytes (at most " + type.max + ")");
        }
        byte[] payload = new byte[(int) length];
        try {
            d.readFully(payload);
        } catch (EOFException e) {
            throw new WireFormatException("the channel ended inside a " + type + " frame of " + length + " bytes");
        }
        return new Frame(type, payload);
    }
}
