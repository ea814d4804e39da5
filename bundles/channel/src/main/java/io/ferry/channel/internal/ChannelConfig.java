package io.ferry.channel.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(name = "Ferry agent channel",
        description = "Where this agent accepts mutual-TLS channels from other agents.")
public @interface ChannelConfig {

    @AttributeDefinition(name = "Port", description = "TCP port for channels from other agents.")
    int port() default 7443;

    @AttributeDefinition(name = "Bind address",
            description = "Address to listen on: 0.0.0.0 for every interface, 127.0.0.1 for this machine only.")
    String bind_address() default "0.0.0.0";

    @AttributeDefinition(name = "Handshake timeout (ms)",
            description = "How long a peer may take for the TLS handshake and the purpose exchange.")
    int handshake_timeout_ms() default 10_000;
}
