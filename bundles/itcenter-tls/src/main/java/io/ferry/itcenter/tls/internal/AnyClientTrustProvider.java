package io.ferry.itcenter.tls.internal;

import java.net.Socket;
import java.security.KeyStore;
import java.security.KeyStoreException;
import java.security.Provider;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import javax.net.ssl.ManagerFactoryParameters;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactorySpi;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * A JSSE provider of the trust manager factory {@value #ALGORITHM} for the IT center's HTTPS
 * connector. It lets every client certificate chain through the handshake (the handshake still
 * proves the client holds the leaf's key), so that the IT center's REST layer can refuse a missing,
 * foreign, expired or revoked certificate with a 4xx answer and an audit entry instead of a bare TLS
 * alert. The REST layer checks every request against the CA and the registry.
 *
 * <p>The issuers it names in the server's certificate request are the trusted certificates of the
 * trust store the factory is initialised with: Jetty passes the connector's trust store
 * ({@code org.ops4j.pax.web.ssl.truststore}, which the IT center writes with its root alone). So it
 * keeps no state of its own and needs nothing from the IT center bundle: it is there, from its own
 * bundle at a start level below pax-web's, whenever pax-web starts the connector from its persisted
 * configuration. It trusts no server.
 */
public final class AnyClientTrustProvider extends Provider {

    /** The provider's name ({@code java.security.Security.getProvider}). */
    public static final String NAME = "FerryItCenter";
    /** The trust manager factory algorithm the IT center names in org.ops4j.pax.web. */
    public static final String ALGORITHM = "FerryAnyClient";
    private static final long serialVersionUID = 1L;

    public AnyClientTrustProvider() {
        super(NAME, "1.0", "Ferry IT center: client certificates checked by the application");
        putService(new Service(this, "TrustManagerFactory", ALGORITHM, Factory.class.getName(), null, null));
    }

    /** The factory JSSE instantiates by name. */
    public static final class Factory extends TrustManagerFactorySpi {

        private volatile X509Certificate[] issuers;

        @Override
        protected void engineInit(KeyStore ks) throws KeyStoreException {
            List<X509Certificate> found = new ArrayList<>();
            if (ks != null) {
                for (String alias : Collections.list(ks.aliases())) {
                    if (ks.isCertificateEntry(alias)) {
                        Certificate c = ks.getCertificate(alias);
                        if (c instanceof X509Certificate x) {
                            found.add(x);
                        }
                    }
                }
            }
            issuers = found.toArray(new X509Certificate[0]);
        }

        @Override
        protected void engineInit(ManagerFactoryParameters spec) {
            issuers = new X509Certificate[0];
        }

        @Override
        protected TrustManager[] engineGetTrustManagers() {
            X509Certificate[] named = issuers;
            if (named == null) {
                throw new IllegalStateException(ALGORITHM + " trust manager factory not initialised");
            }
            return new TrustManager[] {new AnyClient(named)};
        }
    }

    static final class AnyClient extends X509ExtendedTrustManager {

        private final X509Certificate[] issuers;

        AnyClient(X509Certificate[] issuers) {
            this.issuers = issuers.clone();
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            if (chain == null || chain.length == 0) {
                throw new CertificateException("empty client certificate chain");
            }
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            checkClientTrusted(chain, authType);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            checkClientTrusted(chain, authType);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("the IT center's HTTPS connector trusts no server");
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            checkServerTrusted(chain, authType);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            checkServerTrusted(chain, authType);
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return issuers.clone();
        }
    }
}
