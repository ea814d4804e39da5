package io.ferry.api.channel;

import java.util.Objects;

/**
 * Where another agent accepts channels, and who it must prove to be.
 *
 * @param agentId the agent identity its certificate must carry (subject CN)
 * @param host    host name or address
 * @param port    the agent's channel port
 */
public record AgentAddress(String agentId, String host, int port) {

    public AgentAddress {
        Objects.requireNonNull(agentId, "agentId");
        Objects.requireNonNull(host, "host");
        if (agentId.isBlank()) {
            throw new IllegalArgumentException("agentId must not be blank");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
    }

    /** Parses {@code agent@host:port}. */
    public static AgentAddress parse(String text) {
        int at = text.indexOf('@');
        int colon = text.lastIndexOf(':');
        if (at <= 0 || colon < at + 2 || colon == text.length() - 1) {
            throw new IllegalArgumentException("not an agent address (agent@host:port): " + text);
        }
        try {
            return new AgentAddress(text.substring(0, at), text.substring(at + 1, colon),
                    Integer.parseInt(text.substring(colon + 1)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not an agent address (agent@host:port): " + text, e);
        }
    }

    @Override
    public String toString() {
        return agentId + "@" + host + ":" + port;
    }
}
