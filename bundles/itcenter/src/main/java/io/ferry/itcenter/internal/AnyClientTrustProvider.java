package io.ferry.itcenter.internal;

import java.net.Socket;
import java.security.KeyStore;
import java.security.Provider;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;

import javax.net.ssl.ManagerFactoryParameters;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactorySpi;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * A JSSE provider of the trust manager factory {@value #ALGORITHM} for the IT center's HTTPS
 * connector. It lets every client certificate chain through the handshake (the handshake still
 * proves the client holds the leaf's key), so that the REST layer can refuse a missing, foreign,
 * expired or revoked certificate with a 4xx answer and an audit entry instead of a bare TLS alert.
 * The REST layer checks every request against the CA and the registry. It asks clients for
 * certificates of the IT center's root only, and trusts no server.
 */
final class AnyClientTrustProvider extends Provider {

    static final String NAME = "FerryItCenter";
    static final String ALGORITHM = "FerryAnyClient";
    private static final long serialVersionUID = 1L;

    private static volatile X509Certificate[] acceptedIssuers = new X509Certificate[0];

    AnyClientTrustProvider() {
        super(NAME, "1.0", "Ferry IT center: client certificates checked by the application");
        putService(new Service(this, "TrustManagerFactory", ALGORITHM, Factory.class.getName(), null, null));
    }

    static void acceptIssuer(X509Certificate root) {
        acceptedIssuers = new X509Certificate[] {root};
    }

    /** The factory JSSE instantiates by name. */
    public static final class Factory extends TrustManagerFactorySpi {

        @Override
        protected void engineInit(KeyStore ks) {
        }

        @Override
        protected void engineInit(ManagerFactoryParameters spec) {
        }

        @Override
        protected TrustManager[] engineGetTrustManagers() {
            return new TrustManager[] {new AnyClient()};
        }
    }

    private static final class AnyClient extends X509ExtendedTrustManager {

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
            return acceptedIssuers.clone();
        }
    }
}
