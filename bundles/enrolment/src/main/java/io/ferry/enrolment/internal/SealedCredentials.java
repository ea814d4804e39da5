package io.ferry.enrolment.internal;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.function.Supplier;

import javax.net.ssl.X509TrustManager;

import io.ferry.api.channel.AgentCredentials;

/**
 * This agent's credentials from its enrolled identity (key unsealed from seal storage at load); after a
 * renewal the next call sees the new certificate.
 */
final class SealedCredentials implements AgentCredentials {

    private final Supplier<Identity> identity;
    private final RevocationTrustManager trust;

    SealedCredentials(Supplier<Identity> identity, RevocationTrustManager trust) {
        this.identity = identity;
        this.trust = trust;
    }

    @Override
    public String agentId() {
        return identity.get().agentId();
    }

    @Override
    public PrivateKey privateKey() {
        return identity.get().key();
    }

    @Override
    public X509Certificate[] certificateChain() {
        return identity.get().chain();
    }

    @Override
    public X509TrustManager trustManager() {
        return trust;
    }
}
