package io.ferry.channel.internal;

import java.security.GeneralSecurityException;
import java.security.SecureRandom;

import java.security.KeyStore;
import java.util.logging.Logger;

import javax.crypto.Cipher;

import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;

import org.bouncycastle.jsse.provider.BouncyCastleJsseProvider;

import io.ferry.api.channel.AgentCredentials;

/** TLS 1.3 only, both sides authenticated, through BouncyCastle's JSSE provider. */
final class TlsContexts {

    static final String[] PROTOCOLS = { "TLSv1.3" };

    private static final Logger LOG = Logger.getLogger(TlsContexts.class.getName());

    private TlsContexts() {
    }

    /**
     * A JCA provider registered ahead of SunJCE (BouncyCastle's, say) would seal every record of a
     * migration's VM state in pure Java: about ten times the CPU per byte. Worth a line in the log.
     */
    private static void warnIfAesGcmIsNotTheJdks() {
        try {
            String provider = Cipher.getInstance("AES/GCM/NoPadding").getProvider().getName();
            if (!"SunJCE".equals(provider)) {
                LOG.warning("channels get AES-GCM from the JCA provider " + provider + ", not the JDK's SunJCE: bulk "
                        + "transfers (migrations) may take many times the CPU (measured 10x for BouncyCastle's)");
            }
        } catch (GeneralSecurityException e) {
            LOG.warning("no AES-GCM among the JCA providers: " + e.getMessage());
        }
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
            // BCJSSE was chosen for its TLS exporters (RFC 9266 tls-exporter), which SunJSSE lacks on Java 17;
            // the channel binding does not use them (see TlsChannel). Its default crypto provider takes each
            // algorithm from the installed JCA providers, so records are sealed by SunJCE's AES-GCM with the
            // JDK's AES-NI and CLMUL intrinsics: measured as fast as SunJSSE (TlsThroughputBench), while
            // BouncyCastle's own pure-Java AES-GCM took about ten times the CPU per byte.
            warnIfAesGcmIsNotTheJdks();
            return of(credentials, new BouncyCastleJsseProvider());
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw new IllegalStateException("cannot set up TLS 1.3 for agent " + credentials.agentId(), e);
        }
    }

    /** The agent's TLS 1.3 context on the given BCJSSE (TlsThroughputBench compares crypto providers). */
    static SSLContext of(AgentCredentials credentials, BouncyCastleJsseProvider provider)
            throws GeneralSecurityException, java.io.IOException {
        SSLContext context = SSLContext.getInstance("TLSv1.3", provider);
        context.init(keyManagers(credentials, provider), new TrustManager[] { credentials.trustManager() },
                new SecureRandom());
        return context;
    }
}
