package io.ferry.enrolment.internal;

import java.net.URI;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Instant;

/**
 * This agent's identity at its IT center.
 *
 * @param itCenter the IT center's base URI
 * @param agentId  the agent's id there (its certificate's CN)
 * @param key      the TLS private key
 * @param chain    the agent's certificate first, then its issuers, not including the root
 * @param root     the IT center's root certificate: the only trust anchor
 */
record Identity(URI itCenter, String agentId, PrivateKey key, X509Certificate[] chain, X509Certificate root) {

    Identity {
        chain = chain.clone();
    }

    @Override
    public X509Certificate[] chain() {
        return chain.clone();
    }

    X509Certificate certificate() {
        return chain[0];
    }

    Instant notAfter() {
        return chain[0].getNotAfter().toInstant();
    }

    Instant notBefore() {
        return chain[0].getNotBefore().toInstant();
    }

    String serial() {
        return chain[0].getSerialNumber().toString(16);
    }

    /** The same identity with a renewed certificate for the same key. */
    Identity withCertificate(X509Certificate[] newChain) {
        return new Identity(itCenter, agentId, key, newChain, root);
    }
}
