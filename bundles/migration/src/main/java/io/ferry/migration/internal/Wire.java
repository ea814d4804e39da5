package io.ferry.migration.internal;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * The migration control protocol's messages on the {@value SecureMigrations#PURPOSE} channel. A
 * frame is {@code u8 type | u32 length | payload}, the length at most {@link #MAX_FRAME}; a
 * payload is a fixed sequence of fields, each string {@code u16 length | UTF-8} with a limit of
 * its own, and nothing may follow the last field. Anything else is a {@link ProtocolException}:
 * the peer is cut off, no message is half-understood. No Java serialization.
 */
final class Wire {

    static final int MAX_FRAME = 64 * 1024;
    static final int VERSION = 1;
    private static final Pattern SESSION = Pattern.compile("[0-9a-f]{32}");

    /** Message types. */
    enum Type {
        /** source → target: the VM, its signed policy and the single-use session. */
        OFFER(1),
        /** target → source: the target takes the VM; the transfer may start. */
        ACCEPT(2),
        /** target → source: the target does not take the VM, and why. */
        REFUSE(3),
        /** source → target: libvirt reported the migration complete. */
        MIGRATED(4),
        /** target → source: the VM runs here. */
        CONFIRMED(5),
        /** target → source: the VM does not run here, and why. */
        NOT_CONFIRMED(6),
        /** source → target: the migration is aborted; remove any partial domain. */
        ABORT(7);

        final int code;

        Type(int code) {
            this.code = code;
        }

        static Type of(int code) throws ProtocolException {
            for (Type t : values()) {
                if (t.code == code) {
                    return t;
                }
            }
            throw new ProtocolException("unknown message type " + code);
        }
    }

    /** A malformed, oversized or unexpected message. */
    static final class ProtocolException extends IOException {
        private static final long serialVersionUID = 1L;

        ProtocolException(String message) {
            super(message);
        }
    }

    /** Any message; {@link Offer} or {@link Reply}. */
    sealed interface Message permits Offer, Reply {
        Type type();

        String session();
    }

    /**
     * The source's offer.
     *
     * @param targetLevel the security level the IT center gave the target in this channel's attestation
     */
    record Offer(String session, String vm, String uuid, String user, String policyJws, String sourceHost,
            String targetLevel) implements Message {
        @Override
        public Type type() {
            return Type.OFFER;
        }
    }

    /** Every other message: its type, the session, and a reason (empty where the type has none). */
    record Reply(Type type, String session, String reason) implements Message {
        Reply {
            if (type == Type.OFFER) {
                throw new IllegalArgumentException("an offer is an Offer");
            }
            reason = reason == null ? "" : reason;
        }
    }

    private Wire() {
    }

    static boolean isSession(String s) {
        return s != null && SESSION.matcher(s).matches();
    }

    static void write(OutputStream out, Message m) throws IOException {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        DataOutputStream d = new DataOutputStream(buffer);
        d.writeByte(VERSION);
        string(d, m.session(), 32);
        if (m instanceof Offer o) {
            string(d, o.vm(), 256);
            string(d, o.uuid(), 36);
            string(d, o.user(), 256);
            string(d, o.policyJws(), 48 * 1024);
            string(d, o.sourceHost(), 256);
            string(d, o.targetLevel(), 64);
        } else {
            string(d, ((Reply) m).reason(), 4096);
        }
        byte[] payload = buffer.toByteArray();
        DataOutputStream frame = new DataOutputStream(out);
        frame.writeByte(m.type().code);
        frame.writeInt(payload.length);
        frame.write(payload);
        frame.flush();
    }

    /** Reads one message; end of stream before a whole message is an {@link EOFException}. */
    static Message read(InputStream in) throws IOException {
        DataInputStream frame = new DataInputStream(in);
        int code = frame.read();
        if (code < 0) {
            throw new EOFException("the peer closed the channel");
        }
        Type type = Type.of(code);
        int length = frame.readInt();
        if (length < 0 || length > MAX_FRAME) {
            throw new ProtocolException("frame of " + Integer.toUnsignedString(length) + " bytes (at most "
                    + MAX_FRAME + ")");
        }
        byte[] payload = new byte[length];
        frame.readFully(payload);
        DataInputStream d = new DataInputStream(new ByteArrayInputStream(payload));
        try {
            int version = d.readUnsignedByte();
            if (version != VERSION) {
                throw new ProtocolException("protocol version " + version + " (this agent speaks " + VERSION + ")");
            }
            String session = string(d, 32);
            if (!isSession(session)) {
                throw new ProtocolException("not a session id");
            }
            Message m;
            if (type == Type.OFFER) {
                m = new Offer(session, string(d, 256), string(d, 36), string(d, 256), string(d, 48 * 1024),
                        string(d, 256), string(d, 64));
            } else {
                m = new Reply(type, session, string(d, 4096));
            }
            if (d.available() != 0) {
                throw new ProtocolException(type + " with " + d.available() + " trailing bytes");
            }
            return m;
        } catch (EOFException e) {
            throw new ProtocolException(type + " cut short");
        }
    }

    private static void string(DataOutputStream d, String s, int max) throws IOException {
        byte[] b = (s == null ? "" : s).getBytes(StandardCharsets.UTF_8);
        if (b.length > max) {
            throw new ProtocolException("a field of " + b.length + " bytes (at most " + max + ")");
        }
        d.writeShort(b.length);
        d.write(b);
    }

    private static String string(DataInputStream d, int max) throws IOException {
        int n = d.readUnsignedShort();
        if (n > max) {
            throw new ProtocolException("a field of " + n + " bytes (at most " + max + ")");
        }
        byte[] b = new byte[n];
        d.readFully(b);
        try {
            String s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c < 0x20 && c != '\n' && c != '\t') {
                    throw new ProtocolException("a control character in a field");
                }
            }
            return s;
        } catch (CharacterCodingException e) {
            throw new ProtocolException("a field that is not UTF-8");
        }
    }
}
