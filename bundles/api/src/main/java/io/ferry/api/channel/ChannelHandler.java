package io.ferry.api.channel;

import java.io.IOException;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Accepts the channels that other agents open for one purpose. Register it as a service with
 * the property {@value #PURPOSE}; the agent's channel server calls it on a thread of its own and
 * closes the channel when it returns.
 */
@ConsumerType
public interface ChannelHandler {

    /** Service property: the purpose this handler serves, e.g. {@code libvirt-migration}. */
    String PURPOSE = "ferry.channel.purpose";

    void accept(Channel channel) throws IOException;
}
