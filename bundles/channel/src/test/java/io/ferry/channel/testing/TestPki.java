package io.ferry.channel.testing;

import java.math.BigInteger;
import java.net.Socket;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import io.ferry.api.channel.AgentCredentials;

/** A throwaway certificate authority for channel tests, standing in for the IT center's. */
public final class TestPki {

    private static final AtomicLong SERIALS = new AtomicLong(1);

    private final KeyPair caKeys;
    private final X509Certificate caCert;
    /** Serial numbers this CA has revoked; its trust managers refuse them. */
    public final Set<BigInteger> revoked = ConcurrentHashMap.newKeySet();

    public TestPki(String name) throws Exception {
        caKeys = ecKeys();
        caCert = certificate("CN=" + name, caKeys, "CN=" + name, caKeys, true);
    }

    public AgentCredentials agent(String agentId) throws Exception {
        KeyPair keys = ecKeys();
        X509Certificate cert = certificate("CN=" + agentId, keys, caCert.getSubjectX500Principal().getName(), caKeys,
                false);
        X509TrustManager tm = new Revoking(trustManager(), revoked);
        return credentials(agentId, keys.getPrivate(), new X509Certificate[] { cert, caCert }, tm);
    }

    /**
     * An agent whose trust manager is the JDK's own PKIX one, without revocation: it checks host names whenever
     * the TLS engine asks it to (the certificates here name no host, as agents' do not).
     */
    public AgentCredentials agentWithJdkTrust(String agentId) throws Exception {
        KeyPair keys = ecKeys();
        X509Certificate cert = certificate("CN=" + agentId, keys, caCert.getSubjectX500Principal().getName(), caKeys,
                false);
        return credentials(agentId, keys.getPrivate(), new X509Certificate[] { cert, caCert }, trustManager());
    }

    /** Credentials made of given parts (the chain leaf first, handed out as a copy each time). */
    public static AgentCredentials credentials(String agentId, PrivateKey key, X509Certificate[] chain,
            X509TrustManager trust) {
        X509Certificate[] own = chain.clone();
        return new AgentCredentials() {
            @Override
            public String agentId() {
                return agentId;
            }

            @Override
            public PrivateKey privateKey() {
                return key;
            }

            @Override
            public X509Certificate[] certificateChain() {
                return own.clone();
            }

            @Override
            public X509TrustManager trustManager() {
                return trust;
            }
        };
    }

    public BigInteger serialOf(AgentCredentials agent) {
        return agent.certificateChain()[0].getSerialNumber();
    }

    private X509TrustManager trustManager() throws Exception {
        KeyStore ts = KeyStore.getInstance("PKCS12");
        ts.load(null, null);
        ts.setCertificateEntry("ca", caCert);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(ts);
        return (X509TrustManager) tmf.getTrustManagers()[0];
    }

    private static KeyPair ecKeys() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(256);
        return g.generateKeyPair();
    }

    private static X509Certificate certificate(String subject, KeyPair subjectKeys, String issuer, KeyPair issuerKeys,
            boolean ca) throws Exception {
        Instant now = Instant.now();
        JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(new X500Name(issuer),
                BigInteger.valueOf(SERIALS.incrementAndGet()), Date.from(now.minus(1, ChronoUnit.HOURS)),
                Date.from(now.plus(1, ChronoUnit.DAYS)), new X500Name(subject), subjectKeys.getPublic());
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
        return new JcaX509CertificateConverter().getCertificate(
                b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKeys.getPrivate())));
    }

    /** The CA's trust manager plus a revocation list, as agents will consult the IT center's. */
    private static final class Revoking extends X509ExtendedTrustManager {
        private final X509TrustManager delegate;
        private final Set<BigInteger> revoked;

        Revoking(X509TrustManager delegate, Set<BigInteger> revoked) {
            this.delegate = delegate;
            this.revoked = revoked;
        }

        private void check(X509Certificate[] chain) throws CertificateException {
            if (revoked.contains(chain[0].getSerialNumber())) {
                throw new CertificateException("certificate " + chain[0].getSerialNumber() + " is revoked");
            }
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            delegate.checkClientTrusted(chain, authType);
            check(chain);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            delegate.checkServerTrusted(chain, authType);
            check(chain);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket s) throws CertificateException {
            checkClientTrusted(chain, authType);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket s) throws CertificateException {
            checkServerTrusted(chain, authType);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine e) throws CertificateException {
            checkClientTrusted(chain, authType);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine e) throws CertificateException {
            checkServerTrusted(chain, authType);
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return delegate.getAcceptedIssuers();
        }
    }
}
