package io.ferry.itests.checkpoint;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import io.ferry.api.channel.AgentAddress;
import io.ferry.api.channel.AgentCredentials;
import io.ferry.api.channel.ChannelHandler;
import io.ferry.api.itcenter.ItCenterLink;
import io.ferry.channel.internal.TlsAgentChannels;
import io.ferry.channel.testing.TestChannels;
import io.ferry.checkpoint.internal.CheckpointService;
import io.ferry.hypervisor.internal.LibvirtHypervisor;
import io.ferry.seal.testing.MemorySealStorage;

/**
 * One agent in this JVM: channels, seal storage in memory, an IT-center link, the checkpoint service of one testbed
 * host; restartable on the same identity, seal storage and folders (a new port each time).
 */
final class CheckpointAgent {

    /** How an agent reaches the IT center, given its seal storage (where an enrolled link keeps its identity). */
    @FunctionalInterface
    interface Links {
        ItCenterLink open(MemorySealStorage seal) throws Exception;
    }

    final String id;
    final Path home;
    final MemorySealStorage seal = new MemorySealStorage();
    /** The checkpoint configuration's attributes besides {@link CheckpointFixtures#config}'s; read at each start. */
    final Map<String, Object> config;
    private final AgentCredentials credentials;
    private final LibvirtHypervisor host;
    private final Links links;
    TlsAgentChannels channels;
    ItCenterLink link;
    CheckpointService service;
    private boolean dead = true;

    CheckpointAgent(AgentCredentials credentials, LibvirtHypervisor host, Path home, Links links,
            Map<String, ?> config) throws Exception {
        this.id = credentials.agentId();
        this.credentials = credentials;
        this.host = host;
        this.home = home;
        this.links = links;
        this.config = new LinkedHashMap<>(config);
        start();
    }

    /** An agent registered at a real IT center, linked to it at {@code itCenterUrl} (empty or null: as enrolled). */
    static CheckpointAgent enrolled(ItCenterDistribution.Agent identity, LibvirtHypervisor host, Path home,
            String itCenterUrl, Map<String, ?> config) throws Exception {
        return new CheckpointAgent(identity.credentials(), host, home,
                seal -> ItCenterDistribution.link(identity, seal, itCenterUrl), config);
    }

    /** Starts (again): the same identity, seal storage and folders, on a new port. */
    void start() throws Exception {
        channels = TestChannels.start(credentials);
        link = links.open(seal);
        String hostName = host.hostName();
        service = new CheckpointService(CheckpointFixtures.config(home, hostName, config), channels, seal,
                x -> x.equals(hostName) ? host : null, () -> link);
        channels.addHandler(service, Map.of(ChannelHandler.PURPOSE, CheckpointService.PURPOSE));
        dead = false;
    }

    /** As kill -9 of the agent process: its threads stop and its connections break, nothing is cleaned up. */
    void kill() throws IOException {
        if (!dead) {
            dead = true;
            service.close();
            channels.close();
        }
    }

    AgentAddress address() {
        return new AgentAddress(id, "127.0.0.1", channels.port());
    }
}
