package io.ferry.channel.internal;

import java.security.cert.Certificate;
import java.security.cert.X509Certificate;

import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/** An agent's identity is the subject CN of the certificate the IT center issued it. */
final class PeerIdentity {

    private PeerIdentity() {
    }

    static X509Certificate certificate(SSLSession session) throws SSLPeerUnverifiedException {
        Certificate[] chain = session.getPeerCertificates();
        if (chain.length == 0 || !(chain[0] instanceof X509Certificate)) {
            throw new SSLPeerUnverifiedException("the peer presented no X.509 certificate");
        }
        return (X509Certificate) chain[0];
    }

    static String agentId(X509Certificate certificate) {
        try {
            for (Rdn rdn : new LdapName(certificate.getSubjectX500Principal().getName()).getRdns()) {
                if ("CN".equalsIgnoreCase(rdn.getType())) {
                    return rdn.getValue().toString();
                }
            }
        } catch (InvalidNameException e) {
            throw new IllegalArgumentException("unreadable certificate subject", e);
        }
        throw new IllegalArgumentException("the certificate names no agent (no CN): "
                + certificate.getSubjectX500Principal());
    }
}
