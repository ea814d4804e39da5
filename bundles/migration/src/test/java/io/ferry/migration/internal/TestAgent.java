package io.ferry.migration.internal;

import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.lenient;
import static org.mockito.Mockito.mock;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

import io.ferry.api.attestation.AttestationException;
import io.ferry.api.attestation.PeerAttestation;
import io.ferry.api.attestation.SecurityLevels;
import io.ferry.api.attestation.Verdict;
import io.ferry.api.channel.AgentAddress;
import io.ferry.api.channel.AgentChannels;
import io.ferry.api.channel.AgentCredentials;
import io.ferry.api.channel.Channel;
import io.ferry.api.channel.ChannelHandler;
import io.ferry.api.hypervisor.DomainState;
import io.ferry.api.hypervisor.DomainSummary;
import io.ferry.api.hypervisor.Hypervisor;
import io.ferry.api.itcenter.ItCenterLink;
import io.ferry.api.policy.Decision;
import io.ferry.api.policy.Effect;
import io.ferry.api.policy.Policy;
import io.ferry.api.policy.PolicyService;
import io.ferry.api.policy.SignedPolicy;
import io.ferry.api.policy.VmIdentity;
import io.ferry.api.protection.HypervisorProtection;
import io.ferry.api.protection.IntegrityCheck;
import io.ferry.channel.internal.TlsAgentChannels;
import io.ferry.channel.testing.TestChannels;

/**
 * One agent for the flow tests: real TLS channels (test certificates), the real engine and tunnel
 * handler, and mocks for everything around them (hypervisor, policy, protection, IT center link)
 * plus a fake peer attestation that keeps both ends in step on the channel.
 */
final class TestAgent implements Environment, AutoCloseable {

    static final String VM = "vm1";
    static final String UUID = "8f0e6f3c-5a1b-4c2d-9e8f-0123456789ab";
    static final SecurityLevels LEVELS = new SecurityLevels(List.of("untrusted", "measured", "trusted"));

    final String id;
    final TlsAgentChannels channels;
    final MigrationEngine engine;
    final LibvirtTunnelHandler tunnel;
    final StreamSockets streams;
    final QemuStreamHandler stream;
    final EchoDaemon fakeLibvirtd;
    final Hypervisor hypervisor = mock(Hypervisor.class);
    final PolicyService policy = mock(PolicyService.class);
    final ItCenterLink itCenter = mock(ItCenterLink.class);
    final FakeAttestation attestation = new FakeAttestation();
    volatile HypervisorProtection protection = mock(HypervisorProtection.class);
    /** The last migrate-in control channel this agent accepted: tests cut it. */
    final AtomicReference<Channel> lastControl = new AtomicReference<>();
    /** Whether the VM runs on this agent's host, as the hypervisor mock reports it. */
    volatile DomainState vmState;

    TestAgent(String id, AgentCredentials credentials, MigrationEngine.Limits limits, DomainState vmState)
            throws IOException {
        this(id, credentials, limits, vmState, null);
    }

    /** An agent whose used sessions and history are kept in {@code stateDir} (null: in memory). */
    TestAgent(String id, AgentCredentials credentials, MigrationEngine.Limits limits, DomainState vmState,
            java.nio.file.Path stateDir) throws IOException {
        this(id, credentials, limits, vmState, stateDir, null);
    }

    /** An agent whose migrate-outs send QEMU's stream to {@code streams} and whose migrate-ins take it from there. */
    TestAgent(String id, AgentCredentials credentials, MigrationEngine.Limits limits, DomainState vmState,
            java.nio.file.Path stateDir, StreamSockets streams) throws IOException {
        this.id = id;
        this.vmState = vmState;
        this.channels = TestChannels.start(credentials);
        this.engine = new MigrationEngine(limits, this, stateDir, streams);
        this.streams = streams;
        this.stream = engine.streamHandler();
        if (stream != null) {
            channels.addHandler(stream, Map.of(ChannelHandler.PURPOSE, QemuStreamHandler.PURPOSE));
        }
        this.fakeLibvirtd = new EchoDaemon("fake-libvirtd-" + id);
        this.tunnel = new LibvirtTunnelHandler(fakeLibvirtd.address(), engine.gate());
        channels.addHandler(tunnel, Map.of(ChannelHandler.PURPOSE, LibvirtTunnelHandler.PURPOSE));
        ChannelHandler control = channel -> {
            lastControl.set(channel);
            engine.migrateIn(channel);
        };
        channels.addHandler(control, Map.of(ChannelHandler.PURPOSE, SecureMigrations.PURPOSE));
        stubDefaults();
    }

    static MigrationEngine.Limits limits() {
        return new MigrationEngine.Limits("local", Duration.ofSeconds(5), Duration.ofSeconds(30),
                Duration.ofMillis(300), Duration.ofSeconds(2), true, 50, Duration.ofMillis(300));
    }

    AgentAddress address() {
        return new AgentAddress(id, "127.0.0.1", channels.port());
    }

    private void stubDefaults() {
        lenient().when(hypervisor.hostName()).thenReturn("host-" + id);
        lenient().when(hypervisor.exists(VM)).thenAnswer(i -> vmState != null);
        lenient().when(hypervisor.domain(VM)).thenAnswer(i -> {
            if (vmState == null) {
                throw new io.ferry.api.hypervisor.NoSuchDomainException("domain", VM, "host-" + id);
            }
            return summary(vmState);
        });
        lenient().when(hypervisor.listDomains()).thenAnswer(i -> vmState == null ? List.of() : List.of(summary(vmState)));
        lenient().when(policy.levels()).thenReturn(LEVELS);
        lenient().when(policy.get(UUID)).thenReturn(Optional.of(signedPolicy()));
        lenient().when(policy.check(any())).thenReturn(allow());
        lenient().when(policy.decide(any())).thenReturn(allow());
        lenient().when(policy.importPolicy(anyString(), eq(UUID))).thenReturn(signedPolicy());
        lenient().when(protection.check(anyString(), anyString()))
                .thenReturn(new IntegrityCheck(VM, IntegrityCheck.Status.INTACT, List.of(), java.time.Instant.now()));
        lenient().when(itCenter.enrolled()).thenReturn(true);
        lenient().doAnswer(i -> {
            vmState = DomainState.SHUTOFF;
            return null;
        }).when(hypervisor).stop(VM, true);
        lenient().doAnswer(i -> {
            vmState = null;
            return null;
        }).when(hypervisor).undefine(VM);
    }

    static DomainSummary summary(DomainState state) {
        return new DomainSummary(VM, UUID, state, 262144, 1, 1, true);
    }

    static SignedPolicy signedPolicy() {
        Policy p = new Policy(3, new VmIdentity(VM, UUID, "sha256:" + "0".repeat(64)), "alice", Map.of(), Map.of(),
                null, List.of());
        return new SignedPolicy(p, "document", "header.payload.signature", "kid");
    }

    static Decision allow() {
        return new Decision(Effect.ALLOW, "owner-may-move", "alice is the owner", 3, List.of());
    }

    static Decision deny(String rule, String reason) {
        return new Decision(Effect.DENY, rule, reason, 3, List.of());
    }

    static Verdict verdict(String level, boolean genuine) {
        return new Verdict(level, genuine, List.of(), List.of(), List.of());
    }

    @Override
    public void close() throws IOException {
        engine.close();
        channels.close();
        tunnel.close();
        if (stream != null) {
            stream.close();
        }
        fakeLibvirtd.close();
    }

    // Environment

    @Override
    public AgentChannels channels() {
        return channels;
    }

    @Override
    public PolicyService policy() {
        return policy;
    }

    @Override
    public Hypervisor hypervisor(String host) {
        return hypervisor;
    }

    @Override
    public PeerAttestation attestation() {
        return attestation;
    }

    @Override
    public HypervisorProtection protection() {
        return protection;
    }

    @Override
    public ItCenterLink itCenter() {
        return itCenter;
    }

    /**
     * Stands in for the IT center's peer attestation: the answering side writes one byte, the attesting side
     * reads it and returns the configured verdict on its peer. A test may make either side cut the channel.
     */
    static final class FakeAttestation implements PeerAttestation {
        volatile Verdict verdictOnPeer = verdict("trusted", true);
        /** Cuts the channel where this side would send its evidence. */
        volatile boolean cutWhenAnswering;
        /** Runs before this side attests its peer: a test may make it wait for something. */
        volatile Runnable beforeAttesting = () -> { };
        final Set<String> calls = java.util.concurrent.ConcurrentHashMap.newKeySet();

        @Override
        public Verdict attestPeer(Channel channel, Duration timeout) {
            calls.add("attestPeer");
            beforeAttesting.run();
            return receive(channel);
        }

        @Override
        public void answer(Channel channel, Duration timeout) {
            calls.add("answer");
            send(channel);
        }

        /** As the real one: each side sends before it reads, so neither waits for the other's verdict. */
        @Override
        public Verdict attestEachOther(Channel channel, Duration timeout) {
            calls.add("attestEachOther");
            beforeAttesting.run();
            send(channel);
            return receive(channel);
        }

        private void send(Channel channel) {
            try {
                if (cutWhenAnswering) {
                    channel.close();
                    throw new AttestationException("cut");
                }
                channel.output().write(0x5a);
                channel.output().flush();
            } catch (IOException e) {
                throw new AttestationException("answer failed: " + e.getMessage(), e);
            }
        }

        private Verdict receive(Channel channel) {
            try {
                int b = channel.input().read();
                if (b != 0x5a) {
                    throw new AttestationException(channel.peerAgentId() + " did not answer the attestation");
                }
            } catch (IOException e) {
                throw new AttestationException(channel.peerAgentId() + " went away during attestation: "
                        + e.getMessage(), e);
            }
            return verdictOnPeer;
        }
    }
}
