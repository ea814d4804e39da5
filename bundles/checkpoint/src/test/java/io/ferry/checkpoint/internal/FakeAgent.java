package io.ferry.checkpoint.internal;

import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Proxy;
import java.net.URI;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Map;
import java.util.function.Function;

import io.ferry.api.channel.AgentAddress;
import io.ferry.api.channel.AgentChannels;
import io.ferry.api.channel.Channel;
import io.ferry.api.itcenter.ItCenterLink;

/**
 * What a checkpoint service under test stands on, faked: its configuration, its channels, a channel, its link to
 * the IT center. Seal storage is io.ferry.seal.testing.MemorySealStorage.
 */
final class FakeAgent {

    private FakeAgent() {
    }

    /** {@code attributes} by name, every other attribute its declared default. */
    static CheckpointConfig config(Map<String, ?> attributes) {
        return (CheckpointConfig) Proxy.newProxyInstance(FakeAgent.class.getClassLoader(),
                new Class<?>[] {CheckpointConfig.class}, (proxy, m, args) -> attributes.containsKey(m.getName())
                        ? attributes.get(m.getName()) : m.getDefaultValue());
    }

    /** The channels of agent {@code agentId}, opening a channel to a peer with {@code open}. */
    static AgentChannels channels(String agentId, Function<AgentAddress, Channel> open) {
        return new AgentChannels() {
            @Override
            public Channel open(AgentAddress peer, String purpose, Duration timeout) {
                return open.apply(peer);
            }

            @Override
            public String agentId() {
                return agentId;
            }

            @Override
            public int port() {
                return 0;
            }
        };
    }

    /** What a fake IT center answers to one call to {@code /api/v1/<path>}; it throws what the real link would. */
    @FunctionalInterface
    interface ItCenter {
        String call(String method, String path, String json);
    }

    /** An enrolled agent's link to {@code itCenter}. */
    static ItCenterLink link(ItCenter itCenter) {
        return new ItCenterLink() {
            @Override
            public URI uri() {
                return URI.create("https://it.test/");
            }

            @Override
            public boolean enrolled() {
                return true;
            }

            @Override
            public String call(String method, String path, String json, Duration timeout) {
                return itCenter.call(method, path, json);
            }
        };
    }

    /** A checkpoint channel from (or to) {@code peer} over the given streams. */
    static class FakeChannel implements Channel {
        private final String peer;
        private final InputStream in;
        private final OutputStream out;

        FakeChannel(String peer, InputStream in, OutputStream out) {
            this.peer = peer;
            this.in = in;
            this.out = out;
        }

        @Override
        public String purpose() {
            return CheckpointService.PURPOSE;
        }

        @Override
        public String peerAgentId() {
            return peer;
        }

        @Override
        public X509Certificate peerCertificate() {
            return null;
        }

        @Override
        public byte[] binding(String label) {
            return new byte[32];
        }

        @Override
        public InputStream input() {
            return in;
        }

        @Override
        public OutputStream output() {
            return out;
        }

        @Override
        public void shutdownOutput() {
        }

        @Override
        public void close() {
        }
    }
}
