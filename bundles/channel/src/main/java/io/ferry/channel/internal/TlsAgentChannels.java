package io.ferry.channel.internal;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

import javax.net.ssl.SSLException;

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
    private final TlsContexts tls;
    private final ServerSocketChannel server;
    private final int port;
    private final int handshakeTimeoutMillis;
    /**
     * Closes a connection whose handshake and opening exchange outlast their time (a socket channel has no read
     * timeout).
     */
    private final ScheduledExecutorService deadlines;
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
        this.tls = TlsContexts.of(credentials);
        this.handshakeTimeoutMillis = config.handshake_timeout_ms();
        AtomicInteger n = new AtomicInteger();
        this.workers = new ThreadPoolExecutor(0, MAX_CONCURRENT_CHANNELS, 60, TimeUnit.SECONDS,
                new SynchronousQueue<>(), r -> daemon(r, "ferry-channel-" + n.incrementAndGet()));
        this.server = ServerSocketChannel.open();
        try {
            server.bind(new InetSocketAddress(InetAddress.getByName(config.bind_address()), config.port()), 50);
        } catch (IOException e) {
            server.close();
            throw e;
        }
        this.port = ((InetSocketAddress) server.getLocalAddress()).getPort();
        this.deadlines = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "ferry-channel-deadlines-" + port));
        this.acceptor = daemon(this::acceptLoop, "ferry-channel-acceptor-" + port);
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
        deadlines.shutdownNow();
    }

    @Override
    public String agentId() {
        return credentials.agentId();
    }

    @Override
    public int port() {
        return port;
    }

    @Override
    public Channel open(AgentAddress peer, String purpose, Duration timeout) {
        ChannelHeader.checkPurpose(purpose);
        SocketChannel socket = null;
        EngineSocket connection = null;
        Deadline deadline = null;
        try {
            socket = SocketChannel.open();
            deadline = new Deadline(socket, timeout.toMillis());
            InetSocketAddress address = new InetSocketAddress(peer.host(), peer.port());
            socket.socket().connect(address, (int) timeout.toMillis());
            socket.setOption(StandardSocketOptions.TCP_NODELAY, true);
            connection = new EngineSocket(socket, tls.clientEngine(address));
            connection.handshake();
            X509Certificate certificate = PeerIdentity.certificate(connection.session());
            String agent = PeerIdentity.agentId(certificate);
            if (!agent.equals(peer.agentId())) {
                throw new ChannelException("channel to " + peer + ": the peer is agent '" + agent
                        + "', not '" + peer.agentId() + "'");
            }
            byte[] nonce = nonce();
            ChannelHeader.writeRequest(connection.output(), purpose, nonce);
            byte[] peerNonce = ChannelHeader.readAnswer(connection.input());
            if (!deadline.cancel()) {
                throw new ClosedChannelException();
            }
            byte[] transcript = Transcript.of(credentials.certificateChain()[0], certificate, nonce, peerNonce);
            return new TlsChannel(connection, purpose, agent, certificate, transcript);
        } catch (ChannelHeader.Refused e) {
            closeQuietly(socket, connection, deadline);
            throw new ChannelException("channel to " + peer + ": " + purpose + " refused: " + e.getMessage());
        } catch (ChannelException e) {
            closeQuietly(socket, connection, deadline);
            throw e;
        } catch (IOException | RuntimeException e) {
            closeQuietly(socket, connection, deadline);
            if (deadline != null && deadline.expired()) {
                throw new ChannelException("channel to " + peer + ": no answer within " + timeout.toMillis() + " ms",
                        e);
            }
            if (e instanceof SSLException) {
                // In TLS 1.3 the server judges the client's certificate after the client finished its
                // half of the handshake: a refusal can arrive as an alert on the first read.
                throw new ChannelException("channel to " + peer + ": TLS handshake failed (untrusted, revoked or "
                        + "expired certificate on one side?): " + e.getMessage(), e);
            }
            throw new ChannelException("channel to " + peer + ": " + e.getMessage(), e);
        }
    }

    private void acceptLoop() {
        while (server.isOpen()) {
            SocketChannel socket;
            try {
                socket = server.accept();
            } catch (ClosedChannelException e) {
                return; // closed by deactivate
            } catch (IOException e) {
                LOG.log(Level.WARNING, "channel accept failed", e);
                continue;
            }
            try {
                workers.execute(() -> serve(socket));
            } catch (RejectedExecutionException e) {
                LOG.warning("too many open channels; refused a connection from " + remote(socket));
                closeQuietly(socket, null, null);
            }
        }
    }

    private void serve(SocketChannel socket) {
        String from = remote(socket);
        Deadline deadline = new Deadline(socket, handshakeTimeoutMillis);
        try (socket; EngineSocket connection = new EngineSocket(socket,
                tls.serverEngine((InetSocketAddress) socket.getRemoteAddress()))) {
            socket.setOption(StandardSocketOptions.TCP_NODELAY, true);
            connection.handshake();
            X509Certificate certificate = PeerIdentity.certificate(connection.session());
            String agent = PeerIdentity.agentId(certificate);
            ChannelHeader.Request request = ChannelHeader.readRequest(connection.input());
            HandlerSource source = handlers.get(request.purpose());
            ChannelHandler handler = source == null ? null : source.get();
            if (handler == null) {
                ChannelHeader.writeRefusal(connection.output(), "agent " + agentId()
                        + " has no handler for '" + request.purpose() + "'");
                return;
            }
            byte[] nonce = nonce();
            ChannelHeader.writeAcceptance(connection.output(), nonce);
            if (!deadline.cancel()) {
                throw new ClosedChannelException();
            }
            byte[] transcript = Transcript.of(certificate, credentials.certificateChain()[0], request.nonce(), nonce);
            try {
                handler.accept(new TlsChannel(connection, request.purpose(), agent, certificate, transcript));
            } finally {
                source.release(handler);
            }
        } catch (SSLException e) {
            LOG.info("channel from " + from + " refused in the TLS handshake: " + e.getMessage());
        } catch (IOException | RuntimeException e) {
            String why = deadline.expired() ? "no handshake within " + handshakeTimeoutMillis + " ms" : e.getMessage();
            LOG.log(Level.INFO, "channel from " + from + " ended: " + why, e);
        } finally {
            deadline.cancel();
        }
    }

    /** Closes a connection unless cancelled in time: whichever comes first, cancel or deadline, settles it. */
    private final class Deadline {
        private final AtomicBoolean settled = new AtomicBoolean();
        private final ScheduledFuture<?> closing;
        private volatile boolean expired;

        Deadline(SocketChannel socket, long millis) {
            this.closing = deadlines.schedule(() -> {
                if (settled.compareAndSet(false, true)) {
                    expired = true;
                    try {
                        socket.close();
                    } catch (IOException ignored) {
                        // closed already
                    }
                }
            }, Math.max(1, millis), TimeUnit.MILLISECONDS);
        }

        /** True when this call settled it in time: the deadline will not close the connection. */
        boolean cancel() {
            boolean inTime = settled.compareAndSet(false, true);
            closing.cancel(false);
            return inTime;
        }

        boolean expired() {
            return expired;
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

    private static void closeQuietly(SocketChannel socket, EngineSocket connection, Deadline deadline) {
        if (deadline != null) {
            deadline.cancel();
        }
        try {
            if (connection != null) {
                connection.close();
            } else if (socket != null) {
                socket.close();
            }
        } catch (IOException ignored) {
            // nothing left to release
        }
    }

    private static String remote(SocketChannel socket) {
        try {
            return String.valueOf(socket.getRemoteAddress());
        } catch (IOException e) {
            return "an unknown address";
        }
    }
}
