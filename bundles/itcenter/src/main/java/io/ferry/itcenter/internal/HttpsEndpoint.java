package io.ferry.itcenter.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import javax.net.ssl.TrustManagerFactory;

import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.itcenter.ItCenterException.Reason;

/**
 * The IT center's HTTPS endpoint on Karaf's HTTP service: a server key and certificate issued by
 * the IT center's own CA (renewed when near its end or when the root changed), and the
 * {@code org.ops4j.pax.web} configuration that serves HTTPS only, on the configured address and
 * port, asking clients for certificates. The configuration is written only when it differs, so
 * that the HTTP service restarts only when something changed.
 */
final class HttpsEndpoint {

    static final String PAX_WEB_PID = "org.ops4j.pax.web";
    /**
     * The JSSE trust manager factory of bundles/itcenter-tls: lets any client chain through the handshake (the
     * REST layer refuses with 401/403 and an audit entry) and names the trust store's certificates (the root).
     */
    static final String TRUST_MANAGER_ALGORITHM = "FerryAnyClient";
    private static final String ALIAS = "server";
    private static final Duration LIFETIME = Duration.ofDays(90);
    private static final Duration RENEW_BEFORE = Duration.ofDays(30);

    private HttpsEndpoint() {
    }

    /**
     * Checks that the trust manager factory is there, writes the key stores if needed, and configures
     * pax-web.
     */
    static void configure(ConfigurationAdmin cm, CertificateAuthority ca, Path dir, List<String> hosts,
            String address, int port) {
        requireTrustManager();
        try {
            Path passFile = dir.resolve("server.pass");
            String password = Files.exists(passFile) ? Files.readString(passFile, StandardCharsets.UTF_8).strip()
                    : newSecret();
            Path keystore = dir.resolve("server.p12");
            Path truststore = dir.resolve("trust.p12");
            if (!Files.exists(passFile)) {
                CertificateAuthority.writePrivate(passFile, out -> out.write(password.getBytes(StandardCharsets.UTF_8)));
            }
            // the trust store names the root to clients (the FerryAnyClient factory reads it): made with the key
            if (needsNewCertificate(keystore, password, ca) || !Files.exists(truststore)) {
                KeyPair kp = CertificateAuthority.newKeyPair();
                X509Certificate cert = ca.issueServer(hosts, kp.getPublic(), LIFETIME).certificate();
                KeyStore ks = KeyStore.getInstance("PKCS12");
                ks.load(null, null);
                ks.setKeyEntry(ALIAS, kp.getPrivate(), password.toCharArray(), new Certificate[] {cert, ca.root()});
                CertificateAuthority.writePrivate(keystore, out -> ks.store(out, password.toCharArray()));
                KeyStore ts = KeyStore.getInstance("PKCS12");
                ts.load(null, null);
                ts.setCertificateEntry("ferry-root", ca.root());
                CertificateAuthority.writePrivate(truststore, out -> ts.store(out, password.toCharArray()));
            }
            Map<String, Object> wanted = new LinkedHashMap<>();
            wanted.put("org.osgi.service.http.enabled", "false");
            wanted.put("org.osgi.service.http.secure.enabled", "true");
            wanted.put("org.osgi.service.http.port.secure", String.valueOf(port));
            wanted.put("org.ops4j.pax.web.listening.addresses", address);
            wanted.put("org.ops4j.pax.web.ssl.keystore", keystore.toString());
            wanted.put("org.ops4j.pax.web.ssl.keystore.type", "PKCS12");
            wanted.put("org.ops4j.pax.web.ssl.keystore.password", password);
            wanted.put("org.ops4j.pax.web.ssl.key.password", password);
            wanted.put("org.ops4j.pax.web.ssl.key.alias", ALIAS);
            wanted.put("org.ops4j.pax.web.ssl.truststore", truststore.toString());
            wanted.put("org.ops4j.pax.web.ssl.truststore.type", "PKCS12");
            wanted.put("org.ops4j.pax.web.ssl.truststore.password", password);
            wanted.put("org.ops4j.pax.web.ssl.trustManagerFactory.algorithm", TRUST_MANAGER_ALGORITHM);
            wanted.put("org.ops4j.pax.web.ssl.clientauth.wanted", "true");
            wanted.put("org.ops4j.pax.web.ssl.clientauth.needed", "false");
            wanted.put("org.ops4j.pax.web.ssl.protocol", "TLSv1.3");
            // the protocol above only picks the SSLContext; without this Jetty also accepts TLS 1.2
            wanted.put("org.ops4j.pax.web.ssl.protocols.included", "TLSv1.3");
            Configuration config = cm.getConfiguration(PAX_WEB_PID, "?");
            Dictionary<String, Object> props = config.getProperties();
            if (props == null) {
                props = new Hashtable<>();
            }
            boolean changed = false;
            for (Map.Entry<String, Object> e : wanted.entrySet()) {
                if (!Objects.equals(String.valueOf(props.get(e.getKey())), e.getValue())) {
                    props.put(e.getKey(), e.getValue());
                    changed = true;
                }
            }
            if (changed) {
                config.update(props);
            }
        } catch (IOException | GeneralSecurityException e) {
            throw new ItCenterException(Reason.UNAVAILABLE, "cannot set up HTTPS in " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * The connector's trust manager factory comes from the bundle io.ferry.itcenter-tls (feature ferry-itcenter),
     * which installs it at a start level below pax-web's, so that pax-web finds it when it starts the connector from
     * its persisted configuration at the next boot; this bundle (start level 80) would come too late. Without it,
     * the configuration written here would leave pax-web without HTTPS: refuse instead.
     */
    private static void requireTrustManager() {
        try {
            TrustManagerFactory.getInstance(TRUST_MANAGER_ALGORITHM);
        } catch (NoSuchAlgorithmException e) {
            throw new ItCenterException(Reason.UNAVAILABLE, "no " + TRUST_MANAGER_ALGORITHM
                    + " trust manager factory: the bundle io.ferry.itcenter-tls (feature ferry-itcenter) must run "
                    + "before the IT center configures HTTPS (or set https.manage = false)", e);
        }
    }

    private static boolean needsNewCertificate(Path keystore, String password, CertificateAuthority ca) {
        if (!Files.exists(keystore)) {
            return true;
        }
        try (InputStream in = Files.newInputStream(keystore)) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(in, password.toCharArray());
            X509Certificate cert = (X509Certificate) ks.getCertificate(ALIAS);
            cert.verify(ca.root().getPublicKey());
            return cert.getNotAfter().toInstant().isBefore(Instant.now().plus(RENEW_BEFORE));
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            return true;
        }
    }

    static String newSecret() {
        byte[] b = new byte[24];
        new SecureRandom().nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }
}
