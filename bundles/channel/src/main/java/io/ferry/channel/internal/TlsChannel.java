package io.ferry.channel.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.X509Certificate;

import io.ferry.api.channel.Channel;

/**
 * A channel over one TLS connection. Its binding hashes both agents' certificates and both nonces
 * of the opening exchange: a relay in the middle terminates TLS with its own certificate, so
 * the bindings on its two sides differ and an attestation answered on one side is useless on
 * the other. (TLS exporters would serve too, but JSSE on Java 17 has none; the binding does not
 * depend on which TLS engine runs the channel.)
 */
final class TlsChannel implements Channel {

    private final EngineSocket socket;
    private final String purpose;
    private final String peerAgentId;
    private final X509Certificate peerCertificate;
    private final byte[] transcript;

    /**
     * @param transcript what both ends saw of this channel's opening, in the same order on both:
     *        opener certificate, acceptor certificate, opener nonce, acceptor nonce
     */
    TlsChannel(EngineSocket socket, String purpose, String peerAgentId, X509Certificate peerCertificate,
            byte[] transcript) {
        this.socket = socket;
        this.transcript = transcript.clone();
        this.purpose = purpose;
        this.peerAgentId = peerAgentId;
        this.peerCertificate = peerCertificate;
    }

    @Override
    public String purpose() {
        return purpose;
    }

    @Override
    public String peerAgentId() {
        return peerAgentId;
    }

    @Override
    public X509Certificate peerCertificate() {
        return peerCertificate;
    }

    @Override
    public byte[] binding(String label) {
        try {
            MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
            sha256.update(("ferry-channel-binding\0" + label + "\0" + purpose + "\0").getBytes(StandardCharsets.UTF_8));
            sha256.update(transcript);
            return sha256.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public InputStream input() {
        return socket.input();
    }

    @Override
    public OutputStream output() {
        return socket.output();
    }

    @Override
    public ReadableByteChannel readable() {
        return socket;
    }

    @Override
    public WritableByteChannel writable() {
        return socket;
    }

    @Override
    public void shutdownOutput() {
        try {
            socket.shutdownOutput();
        } catch (IOException e) {
            try {
                socket.close(); // the connection is gone already: end the whole channel
            } catch (IOException ignored) {
                // closed already
            }
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    @Override
    public String toString() {
        return "channel '" + purpose + "' with " + peerAgentId;
    }
}
