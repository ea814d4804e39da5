package io.ferry.channel.testing;

import java.io.IOException;
import java.lang.annotation.Annotation;

import io.ferry.api.channel.AgentCredentials;
import io.ferry.channel.internal.ChannelConfig;
import io.ferry.channel.internal.TlsAgentChannels;

/** Channel endpoints for tests: on loopback, on a free port, with a short handshake timeout. */
public final class TestChannels {

    private TestChannels() {
    }

    public static TlsAgentChannels start(AgentCredentials credentials) throws IOException {
        return new TlsAgentChannels(loopbackConfig(), credentials);
    }

    public static ChannelConfig loopbackConfig() {
        return new ChannelConfig() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return ChannelConfig.class;
            }

            @Override
            public int port() {
                return 0;
            }

            @Override
            public String bind_address() {
                return "127.0.0.1";
            }

            @Override
            public int handshake_timeout_ms() {
                return 2000;
            }
        };
    }
}
