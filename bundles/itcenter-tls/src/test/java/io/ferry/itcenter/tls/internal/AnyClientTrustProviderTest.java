package io.ferry.itcenter.tls.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.Socket;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.NoSuchAlgorithmException;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.Security;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.Date;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509KeyManager;
import javax.net.ssl.X509TrustManager;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class AnyClientTrustProviderTest {

    private final TlsActivator activator = new TlsActivator();

    @AfterEach
    void stop() {
        activator.stop(null);
    }

    @Test
    void theActivatorInstallsTheFactoryByNameAndRemovesItAgain() throws Exception {
        assertThatThrownBy(() -> TrustManagerFactory.getInstance(AnyClientTrustProvider.ALGORITHM))
                .isInstanceOf(NoSuchAlgorithmException.class);
        activator.start(null);
        assertThat(TrustManagerFactory.getInstance(AnyClientTrustProvider.ALGORITHM).getProvider().getName())
                .isEqualTo(AnyClientTrustProvider.NAME);
        activator.start(null); // started again (an update): one provider of that name, the new one
        assertThat(List.of(Security.getProviders()).stream().filter(p -> p.getName().equals(AnyClientTrustProvider.NAME)))
                .hasSize(1);
        activator.stop(null);
        assertThat(Security.getProvider(AnyClientTrustProvider.NAME)).isNull();
        assertThatThrownBy(() -> TrustManagerFactory.getInstance(AnyClientTrustProvider.ALGORITHM))
                .isInstanceOf(NoSuchAlgorithmException.class);
    }

    @Test
    void namesTheTrustStoresCertificatesAndRefusesEmptyChainsAndEveryServer() throws Exception {
        activator.start(null);
        KeyPair rootKey = ec();
        X509Certificate root = cert("CN=root", rootKey, "CN=root", rootKey);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(AnyClientTrustProvider.ALGORITHM);
        assertThatThrownBy(tmf::getTrustManagers).isInstanceOf(IllegalStateException.class);
        tmf.init(trustStore(root));
        X509TrustManager tm = (X509TrustManager) tmf.getTrustManagers()[0];
        assertThat(tm.getAcceptedIssuers()).containsExactly(root);
        KeyPair other = ec();
        X509Certificate stranger = cert("CN=stranger", other, "CN=stranger", other);
        tm.checkClientTrusted(new X509Certificate[] {stranger}, "EC"); // the application decides
        assertThatThrownBy(() -> tm.checkClientTrusted(new X509Certificate[0], "EC"))
                .isInstanceOf(CertificateException.class);
        assertThatThrownBy(() -> tm.checkClientTrusted(null, "EC")).isInstanceOf(CertificateException.class);
        assertThatThrownBy(() -> tm.checkServerTrusted(new X509Certificate[] {root}, "EC"))
                .isInstanceOf(CertificateException.class);
        tmf.init((KeyStore) null);
        assertThat(((X509TrustManager) tmf.getTrustManagers()[0]).getAcceptedIssuers()).isEmpty();
    }

    /** A real TLS 1.3 handshake as the connector does it: client certificates wanted, any chain let through. */
    @Test
    void aHandshakeLetsAForeignCertificateThroughAndNamesTheRoot() throws Exception {
        activator.start(null);
        KeyPair rootKey = ec();
        X509Certificate root = cert("CN=root", rootKey, "CN=root", rootKey);
        KeyPair serverKey = ec();
        X509Certificate server = cert("CN=server", serverKey, "CN=root", rootKey);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(AnyClientTrustProvider.ALGORITHM);
        tmf.init(trustStore(root));
        SSLContext serverContext = SSLContext.getInstance("TLSv1.3");
        serverContext.init(keyManagers(serverKey.getPrivate(), server, root), tmf.getTrustManagers(), null);

        KeyPair other = ec();
        X509Certificate stranger = cert("CN=stranger", other, "CN=stranger", other);
        List<String> askedFor = new CopyOnWriteArrayList<>();
        X509KeyManager clientKeys = (X509KeyManager) keyManagers(other.getPrivate(), stranger)[0];
        KeyManager recording = new X509ExtendedKeyManager() {
            @Override
            public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
                for (Principal p : issuers == null ? new Principal[0] : issuers) {
                    askedFor.add(p.getName());
                }
                return "k"; // offered whatever the server names, as an attacker would
            }

            @Override
            public String[] getClientAliases(String keyType, Principal[] issuers) {
                return new String[] {"k"};
            }

            @Override
            public String[] getServerAliases(String keyType, Principal[] issuers) {
                return null;
            }

            @Override
            public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
                return null;
            }

            @Override
            public X509Certificate[] getCertificateChain(String alias) {
                return clientKeys.getCertificateChain(alias);
            }

            @Override
            public PrivateKey getPrivateKey(String alias) {
                return clientKeys.getPrivateKey(alias);
            }
        };
        TrustManagerFactory pkix = TrustManagerFactory.getInstance("PKIX");
        pkix.init(trustStore(root));
        SSLContext clientContext = SSLContext.getInstance("TLSv1.3");
        clientContext.init(new KeyManager[] {recording}, pkix.getTrustManagers(), null);

        assertThat(handshake(serverContext, clientContext)).containsExactly(stranger);
        assertThat(askedFor).containsExactly(root.getSubjectX500Principal().getName());

        // no client certificate at all: the handshake completes too (wanted, not needed), with no peer chain
        SSLContext anonymous = SSLContext.getInstance("TLSv1.3");
        anonymous.init(null, pkix.getTrustManagers(), null);
        assertThat(handshake(serverContext, anonymous)).isEmpty();
    }

    private static List<Certificate> handshake(SSLContext serverContext, SSLContext clientContext) throws Exception {
        try (SSLServerSocket ss = (SSLServerSocket) serverContext.getServerSocketFactory().createServerSocket(0, 1,
                InetAddress.getLoopbackAddress())) {
            ss.setWantClientAuth(true);
            ss.setEnabledProtocols(new String[] {"TLSv1.3"});
            CompletableFuture<List<Certificate>> peer = CompletableFuture.supplyAsync(() -> {
                try (SSLSocket s = (SSLSocket) ss.accept()) {
                    s.startHandshake();
                    InputStream in = s.getInputStream();
                    int b = in.read();
                    s.getOutputStream().write(b);
                    s.getOutputStream().flush();
                    try {
                        return List.of(s.getSession().getPeerCertificates());
                    } catch (SSLPeerUnverifiedException e) {
                        return List.of();
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            try (SSLSocket c = (SSLSocket) clientContext.getSocketFactory().createSocket(ss.getInetAddress(),
                    ss.getLocalPort())) {
                OutputStream out = c.getOutputStream();
                out.write(42);
                out.flush();
                assertThat(c.getInputStream().read()).isEqualTo(42);
            }
            return peer.get(10, TimeUnit.SECONDS);
        }
    }

    private static KeyManager[] keyManagers(PrivateKey key, X509Certificate... chain) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("k", key, "x".toCharArray(), chain);
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, "x".toCharArray());
        return kmf.getKeyManagers();
    }

    private static KeyStore trustStore(X509Certificate root) throws Exception {
        KeyStore ts = KeyStore.getInstance("PKCS12");
        ts.load(null, null);
        ts.setCertificateEntry("ferry-root", root);
        return ts;
    }

    private static KeyPair ec() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    private static X509Certificate cert(String subject, KeyPair subjectKey, String issuer, KeyPair issuerKey)
            throws Exception {
        Date now = new Date();
        var builder = new JcaX509v3CertificateBuilder(new X500Name(issuer), BigInteger.valueOf(System.nanoTime()),
                new Date(now.getTime() - 60_000), new Date(now.getTime() + 3_600_000), new X500Name(subject),
                subjectKey.getPublic());
        if (subject.equals(issuer)) { // self-signed: a CA (the root as a trust anchor)
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
        }
        return new JcaX509CertificateConverter().getCertificate(
                builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKey.getPrivate())));
    }
}
