package io.ferry.channel.internal;

import java.net.InetSocketAddress;
import java.util.logging.Logger;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;

import io.ferry.api.channel.AgentCredentials;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;

/**
 * The agent's TLS: 1.3 only, both sides authenticated with the agent's certificate and key, peers judged by the
 * agent's trust manager (the IT center's CA and its revocation list). The engine is BoringSSL's through
 * netty-tcnative: native code, which measured about two thirds of the CPU per byte of BouncyCastle's JSSE once
 * warm, a quarter in a fresh agent, and an eighth of its handshake time (bench/run channel-tls,
 * docs/benchmarks.md). Where that library cannot load, the JDK's own engine serves, the same on the wire.
 */
final class TlsContexts {

    static final String[] PROTOCOLS = { "TLSv1.3" };

    private static final Logger LOG = Logger.getLogger(TlsContexts.class.getName());

    private final SslContext server;
    private final SslContext client;

    private TlsContexts(SslContext server, SslContext client) {
        this.server = server;
        this.client = client;
    }

    static TlsContexts of(AgentCredentials credentials) {
        SslProvider provider = provider();
        try {
            SslContext server = SslContextBuilder.forServer(credentials.privateKey(), credentials.certificateChain())
                    .sslProvider(provider).trustManager(credentials.trustManager()).clientAuth(ClientAuth.REQUIRE)
                    .protocols(PROTOCOLS).build();
            // No host name check (netty 4.2 turns one on for clients): an agent is known by the agent id in its
            // certificate, which the opener compares with the one it asked for; its addresses change, its id does not.
            SslContext client = SslContextBuilder.forClient()
                    .keyManager(credentials.privateKey(), credentials.certificateChain())
                    .sslProvider(provider).trustManager(credentials.trustManager()).protocols(PROTOCOLS)
                    .endpointIdentificationAlgorithm(null).build();
            return new TlsContexts(server, client);
        } catch (SSLException | RuntimeException e) {
            throw new IllegalStateException("cannot set up TLS 1.3 for agent " + credentials.agentId() + ": "
                    + e.getMessage(), e);
        }
    }

    /** BoringSSL when netty-tcnative's library loads here, else the JDK's engine. */
    static SslProvider provider() {
        if (OpenSsl.isAvailable() && SslProvider.isTlsv13Supported(SslProvider.OPENSSL)) {
            return SslProvider.OPENSSL;
        }
        LOG.warning("agent channels use the JDK's TLS engine: BoringSSL (netty-tcnative) is not available here ("
                + OpenSsl.unavailabilityCause() + "); bulk transfers such as migrations take about twice the CPU");
        return SslProvider.JDK;
    }

    SSLEngine serverEngine(InetSocketAddress peer) {
        return server.newEngine(ByteBufAllocator.DEFAULT, peer.getHostString(), peer.getPort());
    }

    SSLEngine clientEngine(InetSocketAddress peer) {
        return client.newEngine(ByteBufAllocator.DEFAULT, peer.getHostString(), peer.getPort());
    }
}
