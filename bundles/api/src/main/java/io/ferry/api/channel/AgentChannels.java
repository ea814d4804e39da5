package io.ferry.api.channel;

import java.time.Duration;

import org.osgi.annotation.versioning.ProviderType;

/** Opens channels to other agents, and accepts theirs for the registered {@link ChannelHandler}s. */
@ProviderType
public interface AgentChannels {

    /**
     * Opens a channel to {@code peer} for {@code purpose}: TLS 1.3, both sides authenticated by
     * IT-center certificates, the peer's identity checked against {@link AgentAddress#agentId()},
     * and the peer's acceptance of the purpose awaited.
     *
     * @throws ChannelException naming the peer and what failed (unreachable, untrusted, wrong
     *         identity, purpose refused, timeout)
     */
    Channel open(AgentAddress peer, String purpose, Duration timeout);

    /** This agent's identity. */
    String agentId();

    /** The port this agent accepts channels on. */
    int port();
}
