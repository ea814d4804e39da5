package io.ferry.enrolment.internal;

import java.io.IOException;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Arrays;

import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * TLS 1.3 contexts for talking to the IT center: its root certificate is the only trust anchor (the
 * JDK's CA list is never consulted), and this agent's key and certificate are the client certificate.
 */
final class Tls {

    static final String PROTOCOL = "TLSv1.3";

    private Tls() {
    }

    static SSLParameters parameters() {
        SSLParameters p = new SSLParameters();
        p.setProtocols(new String[] { PROTOCOL });
        return p;
    }

    /** Client certificate from the identity, server checked against the identity's root. */
    static SSLContext client(Identity identity) {
        return context(keyManagers(identity), new TrustManager[] { anchoredAt(identity.root()) });
    }

    /** No client certificate (enrolment, CRL), server checked against a known root. */
    static SSLContext anonymous(X509Certificate root) {
        return context(null, new TrustManager[] { anchoredAt(root) });
    }

    /**
     * No client certificate; the server's chain must contain a certificate with the pinned SHA-256 and
     * be valid up to it. Whatever chain was presented is kept in {@code seen}, so that a refusal can name
     * the fingerprint the server offered.
     */
    static SSLContext pinned(String fingerprint, PinningTrustManager.Seen seen) {
        return context(null, new TrustManager[] { new PinningTrustManager(fingerprint, seen) });
    }

    private static SSLContext context(KeyManager[] keyManagers, TrustManager[] trustManagers) {
        try {
            SSLContext c = SSLContext.getInstance(PROTOCOL);
            c.init(keyManagers, trustManagers, new SecureRandom());
            return c;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("no TLS 1.3: " + e.getMessage(), e);
        }
    }

    private static KeyManager[] keyManagers(Identity identity) {
        try {
            char[] password = "in-memory".toCharArray();
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            X509Certificate[] chain = Arrays.copyOf(identity.chain(), identity.chain().length + 1);
            chain[chain.length - 1] = identity.root();
            store.setKeyEntry("agent", identity.key(), password, chain);
            KeyManagerFactory f = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            f.init(store, password);
            return f.getKeyManagers();
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot use the agent's key for TLS: " + e.getMessage(), e);
        }
    }

    /** The JDK's PKIX trust manager with one anchor (hostname checks stay with the HTTP client). */
    static X509ExtendedTrustManager anchoredAt(X509Certificate root) {
        try {
            KeyStore ts = KeyStore.getInstance("PKCS12");
            ts.load(null, null);
            ts.setCertificateEntry("itcenter-root", root);
            TrustManagerFactory f = TrustManagerFactory.getInstance("PKIX");
            f.init(ts);
            for (TrustManager tm : f.getTrustManagers()) {
                if (tm instanceof X509ExtendedTrustManager x) {
                    return x;
                }
            }
            throw new IllegalStateException("no X509 trust manager");
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot trust the IT center root: " + e.getMessage(), e);
        }
    }

    /** Trusts a server chain only up to a certificate with a pinned fingerprint that the chain itself carries. */
    static final class PinningTrustManager extends X509ExtendedTrustManager {

        /** What the server presented. */
        static final class Seen {
            volatile X509Certificate[] chain;
        }

        private final String fingerprint;
        private final Seen seen;

        PinningTrustManager(String fingerprint, Seen seen) {
            this.fingerprint = fingerprint;
            this.seen = seen;
        }

        private X509ExtendedTrustManager delegate(X509Certificate[] chain) throws CertificateException {
            seen.chain = chain.clone();
            if (fingerprint == null) {
                throw new CertificateException("no IT center root is pinned");
            }
            for (X509Certificate c : chain) {
                if (Pki.fingerprint(c).equals(fingerprint)) {
                    return anchoredAt(c);
                }
            }
            throw new CertificateException("the IT center's chain does not contain the pinned root " + fingerprint);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            delegate(chain).checkServerTrusted(chain, authType, socket);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            delegate(chain).checkServerTrusted(chain, authType, engine);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            delegate(chain).checkServerTrusted(chain, authType);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            throw new CertificateException("a client-side trust manager");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            throw new CertificateException("a client-side trust manager");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("a client-side trust manager");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
