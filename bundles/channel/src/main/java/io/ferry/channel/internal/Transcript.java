package io.ferry.channel.internal;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;

/** The opening of a channel as both ends saw it: length-prefixed, so no two openings encode alike. */
final class Transcript {

    private Transcript() {
    }

    static byte[] of(X509Certificate opener, X509Certificate acceptor, byte[] openerNonce, byte[] acceptorNonce) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bytes);
            for (byte[] part : new byte[][] { opener.getEncoded(), acceptor.getEncoded(), openerNonce, acceptorNonce }) {
                out.writeInt(part.length);
                out.write(part);
            }
            return bytes.toByteArray();
        } catch (CertificateEncodingException e) {
            throw new IllegalStateException(e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
