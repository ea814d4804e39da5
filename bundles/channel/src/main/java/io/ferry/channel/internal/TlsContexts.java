package io.ferry.channel.internal;

import java.security.GeneralSecurityException;
import java.security.SecureRandom;

import java.security.KeyStore;

import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;

import org.bouncycastle.jsse.provider.BouncyCastleJsseProvider;

import io.ferry.api.channel.AgentCredentials;

/** TLS 1.3 only, both sides authenticated, through BouncyCastle's JSSE provider. */
final class TlsContexts {

    static final String[] PROTOCOLS = { "TLSv1.3" };

    private TlsContexts() {
    }

    /** BCJSSE's own key manager: SunJSSE's offers no EC key to BCJSSE's TLS 1.3 server. */
    private static KeyManager[] keyManagers(AgentCredentials credentials, BouncyCastleJsseProvider provider)
            throws GeneralSecurityException, java.io.IOException {
        char[] password = "in-memory".toCharArray();
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry("agent", credentials.privateKey(), password, credentials.certificateChain());
        KeyManagerFactory factory = KeyManagerFactory.getInstance("PKIX", provider);
        factory.init(store, password);
        return factory.getKeyManagers();
    }

    static SSLContext of(AgentCredentials credentials) {
        try {
            // BCJSSE rather than SunJSSE: on Java 17 only BCJSSE offers the tls-exporter channel binding
            BouncyCastleJsseProvider provider = new BouncyCastleJsseProvider();
            SSLContext context = SSLContext.getInstance("TLSv1.3", provider);
            context.init(keyManagers(credentials, provider), new TrustManager[] { credentials.trustManager() },
                    new SecureRandom());
            return context;
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw new IllegalStateException("cannot set up TLS 1.3 for agent " + credentials.agentId(), e);
        }
    }
}
