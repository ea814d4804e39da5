package io.ferry.enrolment.internal;

import java.io.ByteArrayInputStream;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.function.Supplier;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Accepts a peer only when its chain leads to the IT center's root (the JDK's PKIX checks: signatures,
 * validity, key usage) and no certificate of it is on the IT center's CRL. The CRL is fetched on first
 * need and again once its nextUpdate has passed; a CRL that cannot be fetched or does not verify against
 * the root fails the check (closed), because a revoked agent must not slip through while the IT center
 * is out of reach past the CRL's validity.
 *
 * <p>The socket and engine variants check the same way as the plain ones: peers are agents identified by
 * their certificate's CN, not by host names, and the channels run on another TLS engine than the JDK's
 * (BoringSSL through netty), whose sessions the JDK trust manager's socket/engine variants do not expect.
 */
final class RevocationTrustManager extends X509ExtendedTrustManager {

    private final X509Certificate root;
    private final X509ExtendedTrustManager pkix;
    private final Supplier<byte[]> fetchCrl;
    private final Clock clock;
    private volatile X509CRL crl;

    RevocationTrustManager(X509Certificate root, Supplier<byte[]> fetchCrl, Clock clock) {
        this.root = root;
        this.pkix = Tls.anchoredAt(root);
        this.fetchCrl = fetchCrl;
        this.clock = clock;
    }

    /** The CRL in use, fetched afresh when there is none or it is past its nextUpdate. */
    X509CRL currentCrl() throws CertificateException {
        X509CRL c = crl;
        Instant now = clock.instant();
        if (c != null && c.getNextUpdate() != null && now.isBefore(c.getNextUpdate().toInstant())) {
            return c;
        }
        synchronized (this) {
            c = crl;
            if (c != null && c.getNextUpdate() != null && now.isBefore(c.getNextUpdate().toInstant())) {
                return c;
            }
            X509CRL fresh;
            try {
                fresh = (X509CRL) CertificateFactory.getInstance("X.509")
                        .generateCRL(new ByteArrayInputStream(fetchCrl.get()));
                fresh.verify(root.getPublicKey());
            } catch (GeneralSecurityException | RuntimeException e) {
                throw new CertificateException("cannot check revocation: no valid CRL from the IT center ("
                        + e.getMessage() + ")", e);
            }
            if (!fresh.getIssuerX500Principal().equals(root.getSubjectX500Principal())) {
                throw new CertificateException("the CRL was not issued by the IT center root");
            }
            if (fresh.getNextUpdate() == null || !now.isBefore(fresh.getNextUpdate().toInstant())
                    || now.isBefore(fresh.getThisUpdate().toInstant().minusSeconds(300))) {
                throw new CertificateException("the IT center's CRL is not current (thisUpdate "
                        + fresh.getThisUpdate().toInstant() + ", nextUpdate "
                        + (fresh.getNextUpdate() == null ? "none" : fresh.getNextUpdate().toInstant()) + ")");
            }
            crl = fresh;
            return fresh;
        }
    }

    private void notRevoked(X509Certificate[] chain) throws CertificateException {
        X509CRL c = currentCrl();
        for (X509Certificate cert : chain) {
            if (cert.equals(root)) {
                continue;
            }
            if (c.isRevoked(cert)) {
                throw new CertificateException("certificate " + cert.getSerialNumber().toString(16) + " of "
                        + cert.getSubjectX500Principal().getName() + " is revoked by the IT center");
            }
        }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        pkix.checkClientTrusted(chain, authType);
        notRevoked(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        pkix.checkServerTrusted(chain, authType);
        notRevoked(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        checkClientTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        checkServerTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        checkClientTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        checkServerTrusted(chain, authType);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[] { root };
    }
}
