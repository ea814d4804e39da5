package io.ferry.channel.internal;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;

import org.bouncycastle.tls.TlsException;
import org.osgi.service.component.ComponentServiceObjects;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.Designate;

import io.ferry.api.channel.AgentAddress;
import io.ferry.api.channel.AgentChannels;
import io.ferry.api.channel.AgentCredentials;
import io.ferry.api.channel.Channel;
import io.ferry.api.channel.ChannelException;
import io.ferry.api.channel.ChannelHandler;

/**
 * The agent's channel endpoint: accepts mutual-TLS channels on the configured port and hands
 * each to the {@link ChannelHandler} registered for its purpose; opens channels to other agents.
 */
@Component(service = AgentChannels.class, configurationPid = "io.ferry.channel", immediate = true)
@Designate(ocd = ChannelConfig.class)
public final class TlsAgentChannels implements AgentChannels {

    private static final Logger LOG = Logger.getLogger(TlsAgentChannels.class.getName());
    private static final int MAX_CONCURRENT_CHANNELS = 64;

    private final AgentCredentials credentials;
    private final SSLContext context;
    private final SSLServerSocket server;
    private final int handshakeTimeoutMillis;
    /**
     * The handlers by purpose, as sources got from only when a channel arrives: a handler's
     * component usually needs this service too (to open channels), and getting it at bind time
     * would make the two components' activations a cycle.
     */
    private final Map<String, HandlerSource> handlers = new ConcurrentHashMap<>();

    /** A handler, got per channel and released after it. */
    private interface HandlerSource {
        ChannelHandler get();

        void release(ChannelHandler handler);
    }
    private final ThreadPoolExecutor workers;
    private final Thread acceptor;
    private final SecureRandom random = new SecureRandom();

    @Activate
    public TlsAgentChannels(ChannelConfig config, @Reference AgentCredentials credentials) throws IOException {
        this.credentials = credentials;
        this.context = TlsContexts.of(credentials);
        this.handshakeTimeoutMillis = config.handshake_timeout_ms();
        AtomicInteger n = new AtomicInteger();
        this.workers = new ThreadPoolExecutor(0, MAX_CONCURRENT_CHANNELS, 60, TimeUnit.SECONDS,
                new SynchronousQueue<>(), r -> daemon(r, "ferry-channel-" + n.incrementAndGet()));
        this.server = (SSLServerSocket) context.getServerSocketFactory()
                .createServerSocket(config.port(), 50, InetAddress.getByName(config.bind_address()));
        server.setNeedClientAuth(true);
        server.setEnabledProtocols(TlsContexts.PROTOCOLS);
        this.acceptor = daemon(this::acceptLoop, "ferry-channel-acceptor-" + server.getLocalPort());
        acceptor.start();
    }

    @Reference(name = "handler", service = ChannelHandler.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY, unbind = "unbindHandler")
    void bindHandler(ComponentServiceObjects<ChannelHandler> objects, Map<String, Object> properties) {
        register(properties, new HandlerSource() {
            @Override
            public ChannelHandler get() {
                return objects.getService();
            }

            @Override
            public void release(ChannelHandler handler) {
                objects.ungetService(handler);
            }
        });
    }

    void unbindHandler(ComponentServiceObjects<ChannelHandler> objects, Map<String, Object> properties) {
        if (properties.get(ChannelHandler.PURPOSE) instanceof String p) {
            handlers.remove(p);
        }
    }

    /** Serves a purpose with a handler object (outside OSGi, e.g. in tests and benchmarks). */
    public void addHandler(ChannelHandler handler, Map<String, Object> properties) {
        register(properties, new HandlerSource() {
            @Override
            public ChannelHandler get() {
                return handler;
            }

            @Override
            public void release(ChannelHandler h) {
                // nothing to release
            }
        });
    }

    public void removeHandler(ChannelHandler handler, Map<String, Object> properties) {
        if (properties.get(ChannelHandler.PURPOSE) instanceof String p) {
            handlers.remove(p);
        }
    }

    private void register(Map<String, Object> properties, HandlerSource source) {
        if (properties.get(ChannelHandler.PURPOSE) instanceof String p) {
            handlers.put(p, source);
        } else {
            LOG.warning("channel handler without a " + ChannelHandler.PURPOSE + " property ignored: " + properties);
        }
    }

    @Deactivate
    public void close() {
        try {
            server.close();
        } catch (IOException ignored) {
            // closing a listening socket fails only if it was closed already
        }
        workers.shutdownNow();
    }

    @Override
    public String agentId() {
        return credentials.agentId();
    }

    @Override
    public int port() {
        return server.getLocalPort();
    }

    @Override
    public Channel open(AgentAddress peer, String purpose, Duration timeout) {
        ChannelHeader.checkPurpose(purpose);
        SSLSocket socket = null;
        try {
            socket = (SSLSocket) context.getSocketFactory().createSocket();
            socket.setEnabledProtocols(TlsContexts.PROTOCOLS);
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress(peer.host(), peer.port()), (int) timeout.toMillis());
            socket.setSoTimeout((int) timeout.toMillis());
            socket.startHandshake();
            X509Certificate certificate = PeerIdentity.certificate(socket.getSession());
            String agent = PeerIdentity.agentId(certificate);
            if (!agent.equals(peer.agentId())) {
                throw new ChannelException("channel to " + peer + ": the peer is agent '" + agent
                        + "', not '" + peer.agentId() + "'");
            }
            byte[] nonce = nonce();
            ChannelHeader.writeRequest(socket.getOutputStream(), purpose, nonce);
            byte[] peerNonce = ChannelHeader.readAnswer(socket.getInputStream());
            socket.setSoTimeout(0);
            byte[] transcript = Transcript.of(credentials.certificateChain()[0], certificate, nonce, peerNonce);
            return new TlsChannel(socket, purpose, agent, certificate, transcript);
        } catch (ChannelHeader.Refused e) {
            closeQuietly(socket);
            throw new ChannelException("channel to " + peer + ": " + purpose + " refused: " + e.getMessage());
        } catch (ChannelException e) {
            closeQuietly(socket);
            throw e;
        } catch (SocketTimeoutException e) {
            closeQuietly(socket);
            throw new ChannelException("channel to " + peer + ": no answer within " + timeout.toMillis() + " ms", e);
        } catch (SSLException | TlsException e) {
            // In TLS 1.3 the server judges the client's certificate after the client finished its
            // half of the handshake: a refusal can arrive as an alert on the first read.
            closeQuietly(socket);
            throw new ChannelException("channel to " + peer + ": TLS handshake failed (untrusted, revoked or "
                    + "expired certificate on one side?): " + e.getMessage(), e);
        } catch (IOException | RuntimeException e) {
            closeQuietly(socket);
            throw new ChannelException("channel to " + peer + ": " + e.getMessage(), e);
        }
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            SSLSocket socket;
            try {
                socket = (SSLSocket) server.accept();
            } catch (SocketException e) {
                return; // closed by deactivate
            } catch (IOException e) {
                LOG.log(Level.WARNING, "channel accept failed", e);
                continue;
            }
            try {
                workers.execute(() -> serve(socket));
            } catch (RejectedExecutionException e) {
                LOG.warning("too many open channels; refused a connection from " + socket.getRemoteSocketAddress());
                closeQuietly(socket);
            }
        }
    }

    private void serve(SSLSocket socket) {
        String from = String.valueOf(socket.getRemoteSocketAddress());
        try (socket) {
            socket.setSoTimeout(handshakeTimeoutMillis);
            socket.setTcpNoDelay(true);
            socket.startHandshake();
            X509Certificate certificate = PeerIdentity.certificate(socket.getSession());
            String agent = PeerIdentity.agentId(certificate);
            ChannelHeader.Request request = ChannelHeader.readRequest(socket.getInputStream());
            HandlerSource source = handlers.get(request.purpose());
            ChannelHandler handler = source == null ? null : source.get();
            if (handler == null) {
                ChannelHeader.writeRefusal(socket.getOutputStream(), "agent " + agentId()
                        + " has no handler for '" + request.purpose() + "'");
                return;
            }
            byte[] nonce = nonce();
            ChannelHeader.writeAcceptance(socket.getOutputStream(), nonce);
            socket.setSoTimeout(0);
            byte[] transcript = Transcript.of(certificate, credentials.certificateChain()[0], request.nonce(), nonce);
            try {
                handler.accept(new TlsChannel(socket, request.purpose(), agent, certificate, transcript));
            } finally {
                source.release(handler);
            }
        } catch (SSLException | TlsException e) {
            LOG.info("channel from " + from + " refused in the TLS handshake: " + e.getMessage());
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.INFO, "channel from " + from + " ended: " + e.getMessage(), e);
        }
    }

    private byte[] nonce() {
        byte[] nonce = new byte[ChannelHeader.NONCE_LENGTH];
        random.nextBytes(nonce);
        return nonce;
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    private static void closeQuietly(SSLSocket socket) {
        if (socket != null) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // nothing left to release
            }
        }
    }
}
