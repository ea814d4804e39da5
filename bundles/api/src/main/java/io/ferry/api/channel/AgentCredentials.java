package io.ferry.api.channel;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;

import javax.net.ssl.X509TrustManager;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * This agent's identity on channels: its private key and certificate chain, and the trust
 * anchors (with revocation) that a peer's certificate must chain to. Enrolment provides it, the
 * key unsealed from seal storage; development set-ups may use key files.
 */
@ConsumerType
public interface AgentCredentials {

    /** This agent's identity, the subject CN of its certificate. */
    String agentId();

    /** The private key of this agent's TLS certificate. */
    PrivateKey privateKey();

    /** This agent's certificate first, then its issuers up to (not necessarily including) the root. */
    X509Certificate[] certificateChain();

    /** Accepts only peers whose certificate the IT center issued and has not revoked. */
    X509TrustManager trustManager();
}
