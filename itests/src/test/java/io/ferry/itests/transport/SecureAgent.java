package io.ferry.itests.transport;

import java.io.IOException;
import java.lang.annotation.Annotation;
import java.net.InetSocketAddress;
import java.net.URI;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import io.ferry.api.attestation.PeerAttestation;
import io.ferry.api.attestation.SecurityLevels;
import io.ferry.api.channel.AgentAddress;
import io.ferry.api.channel.AgentChannels;
import io.ferry.api.channel.ChannelHandler;
import io.ferry.api.hypervisor.Hypervisor;
import io.ferry.api.itcenter.ItCenterLink;
import io.ferry.api.policy.PolicyService;
import io.ferry.api.protection.HypervisorProtection;
import io.ferry.api.protection.IntegrityCheck;
import io.ferry.api.protection.ProtectionAction;
import io.ferry.attestation.internal.AttestationTestAccess;
import io.ferry.hypervisor.protection.internal.BaselineFile;
import io.ferry.hypervisor.protection.internal.Protector;
import io.ferry.channel.internal.TlsAgentChannels;
import io.ferry.channel.testing.TestChannels;
import io.ferry.hypervisor.internal.LibvirtHypervisor;
import io.ferry.itests.Testbed;
import io.ferry.migration.internal.Environment;
import io.ferry.migration.internal.LibvirtTunnelHandler;
import io.ferry.migration.internal.MigrationEngine;
import io.ferry.migration.internal.QemuStreamHandler;
import io.ferry.migration.internal.StreamSockets;
import io.ferry.migration.internal.SecureMigrations;
import io.ferry.policy.internal.NimbusPolicySigner;
import io.ferry.policy.internal.PolicyServiceConfig;
import io.ferry.policy.internal.SealedPolicyService;
import io.ferry.seal.testing.MemorySealStorage;

/**
 * One agent for secure-migration tests and benchmarks outside Karaf: mutual-TLS channels with the
 * certificate the (in-JVM) IT center issued it and that IT center's CRL, the real migration engine
 * with its relay and gated libvirt tunnel and its state folder (used sessions, history), the real
 * policy service (in-memory seal storage) trusting a test IT-center policy key, the real peer
 * attestation ({@code ChannelPeerAttestation}) judged by the IT center's real verdict logic, the real
 * hypervisor protection ({@link Protector}, kernel-text baseline of the guest), and the agent's
 * libvirt host. The agent's quotes come from a software TPM ({@code SoftwareAttester}: an EC
 * attestation key the IT center has on record), not from swtpm.
 */
public final class SecureAgent implements Environment, AutoCloseable {

    public static final SecurityLevels LEVELS = TestItCenter.LEVELS;

    final TestItCenter.Enrolled enrolled;
    final TlsAgentChannels raw;
    final TappedChannels tapped;
    final SealedPolicyService policy;
    final PeerAttestation attestation;
    final Protector protector;
    final HypervisorProtection protection;
    /** How long the last integrity check took (benchmarks: it runs alongside the channel and attestation). */
    public volatile long lastCheckNanos = -1;
    /** Reads guest memory ahead while protection hashes; runs protection's periodic rounds when started. */
    private final ExecutorService protectionReader = Executors
            .newCachedThreadPool(r -> {
                Thread t = new Thread(r, "protection-read");
                t.setDaemon(true);
                return t;
            });
    private volatile ScheduledExecutorService protectionRounds;
    final LibvirtHypervisor hypervisor;
    public final MigrationEngine engine;
    final LibvirtTunnelHandler tunnel;
    final QemuStreamHandler stream;
    final Path state;
    private final KeyPair policyKey;
    private final byte[] marker;
    /** Stands in for the TPM-sealed storage, which outlives the agent's process. */
    private final MemorySealStorage sealed;

    /**
     * @param state  the agent's data folder: migration state and protection baselines (kept across a restart)
     * @param marker when not null, the agent's outgoing libvirt tunnels are tapped for it (see {@link TappedChannels})
     */
    public SecureAgent(TestItCenter.Enrolled enrolled, LibvirtHypervisor hypervisor, KeyPair policyKey, byte[] marker,
            Path state) throws IOException {
        this(enrolled, hypervisor, policyKey, marker, state, new MemorySealStorage());
    }

    private SecureAgent(TestItCenter.Enrolled enrolled, LibvirtHypervisor hypervisor, KeyPair policyKey,
            byte[] marker, Path state, MemorySealStorage sealed) throws IOException {
        this.enrolled = enrolled;
        this.state = state;
        this.policyKey = policyKey;
        this.marker = marker;
        this.sealed = sealed;
        this.raw = TestChannels.start(enrolled.credentials());
        this.tapped = marker != null ? new TappedChannels(raw, marker) : null;
        this.hypervisor = hypervisor;
        this.policy = new SealedPolicyService(policyConfig(policyKey), sealed);
        this.attestation = AttestationTestAccess.peerAttestation(enrolled.tpm(), enrolled::link);
        String host = hypervisor.hostName();
        this.protector = new Protector(new Protector.Settings(ProtectionAction.REFUSE_MIGRATION, false, true, List.of(),
                List.of(), Duration.ofSeconds(1)), h -> host.equals(h) ? hypervisor : null, () -> List.of(hypervisor),
                enrolled::link, () -> null, new BaselineFile(state.resolve("protection-baselines.json")), Runnable::run,
                protectionReader, Clock.systemUTC(), 100);
        this.protection = new HypervisorProtection() {
            @Override
            public IntegrityCheck check(String h, String vm) {
                long t0 = System.nanoTime();
                try {
                    return protector.check(h, vm);
                } finally {
                    lastCheckNanos = System.nanoTime() - t0;
                }
            }

            @Override
            public Optional<IntegrityCheck> latest(String h, String vm) {
                return protector.latest(h, vm);
            }
        };
        // -Dferry.protection.max.age.ms: how old a result of protection's rounds the engine relies on (0: none)
        this.engine = new MigrationEngine(new MigrationEngine.Limits(host, Duration.ofSeconds(15),
                Duration.ofSeconds(120), Duration.ofMillis(300), Duration.ofSeconds(2), true, 50,
                Duration.ofSeconds(10), Duration.ofMillis(Long.getLong("ferry.protection.max.age.ms", 0))), this,
                state.resolve("migration"), streamSockets(host));
        URI libvirt = URI.create(hypervisor.uri());
        this.tunnel = engine.tunnelHandler(new InetSocketAddress(libvirt.getHost(), libvirt.getPort()));
        raw.addHandler(tunnel, Map.of(ChannelHandler.PURPOSE, LibvirtTunnelHandler.PURPOSE));
        this.stream = engine.streamHandler();
        if (stream != null) {
            raw.addHandler(stream, Map.of(ChannelHandler.PURPOSE, QemuStreamHandler.PURPOSE));
        }
        raw.addHandler(engine::migrateIn, Map.of(ChannelHandler.PURPOSE, SecureMigrations.PURPOSE));
    }

    /**
     * The same agent started again after {@link #close()} (its process killed): same certificate, TPM,
     * sealed policies and data folder; a new channel port.
     */
    public SecureAgent restart() throws IOException {
        return new SecureAgent(enrolled, hypervisor, policyKey, marker, state, sealed);
    }

    /**
     * The testbed host's stream folder: /run/libvirt/ferry inside its libvirtd's mount namespace, its run
     * folder's ferry/ here; null (libvirt's tunnel) with -Dferry.migration.tunnelled=true.
     */
    private static StreamSockets streamSockets(String host) throws IOException {
        if (Boolean.getBoolean("ferry.migration.tunnelled")) {
            return null;
        }
        Path local = Path.of(Testbed.load().get("FERRY_HOST_" + host.toUpperCase(Locale.ROOT) + "_DIR"), "run", "ferry");
        Files.createDirectories(local);
        return new StreamSockets(Path.of("/run/libvirt/ferry"), local);
    }

    /** This agent's id (the subject of its certificate; what policies name as the device). */
    public String id() {
        return enrolled.id();
    }

    /** Starts protection's periodic rounds (as its component does every interval.seconds), until close. */
    public synchronized void startProtectionRounds(Duration interval) {
        if (protectionRounds == null) {
            protectionRounds = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "protection-rounds");
                t.setDaemon(true);
                return t;
            });
            protectionRounds.scheduleWithFixedDelay(() -> {
                try {
                    protector.round();
                } catch (RuntimeException e) {
                    System.err.println("protection round failed: " + e);
                }
            }, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** Takes the protection baseline of a VM running on this agent's host, unless it has one. */
    public void baseline(String vm) {
        if (protector.check(hypervisor.hostName(), vm).status() == IntegrityCheck.Status.NO_BASELINE) {
            protector.baseline(hypervisor.hostName(), vm);
        }
    }

    /** Where this agent accepts channels, directly. */
    public AgentAddress address() {
        return new AgentAddress(raw.agentId(), "127.0.0.1", raw.port());
    }

    public void importPolicy(String jws) {
        policy.importPolicy(jws);
    }

    /** An EC P-256 key pair standing in for the IT center's policy-signing key. */
    public static KeyPair policyKey() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    /**
     * A signed policy: owner alice may move the VM both ways between the named devices (agent ids),
     * both rated 'trusted' by the IT center.
     */
    public static String signedPolicy(KeyPair key, String vm, String uuid, String... devices) {
        return signedPolicy(key, 1, vm, uuid, devices);
    }

    /** As {@link #signedPolicy(KeyPair, String, String, String...)}, with a version (a new one supersedes an older one). */
    public static String signedPolicy(KeyPair key, int version, String vm, String uuid, String... devices) {
        String document = """
                ferry-policy: 1
                version: %d
                vm:
                  name: %s
                  uuid: %s
                  image-digest: sha256:%s
                owner: alice
                rules:
                  - id: owner-own-devices
                    effect: allow
                    direction: both
                    roles: [owner]
                    devices: [%s]
                    min-target-level: trusted
                    min-source-level: trusted
                """.formatted(version, vm, uuid, "ab".repeat(32), String.join(", ", devices));
        return new NimbusPolicySigner().sign(document, LEVELS, key).jws();
    }

    @Override
    public void close() {
        if (protectionRounds != null) {
            protectionRounds.shutdownNow();
        }
        protectionReader.shutdown();
        engine.close();
        raw.close();
        tunnel.close();
        if (stream != null) {
            stream.close();
        }
    }

    @Override
    public AgentChannels channels() {
        return tapped != null ? tapped : raw;
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
        return enrolled.link();
    }

    private static PolicyServiceConfig policyConfig(KeyPair key) {
        String pem = "-----BEGIN PUBLIC KEY-----\n"
                + Base64.getMimeEncoder(64, new byte[] { '\n' }).encodeToString(key.getPublic().getEncoded())
                + "\n-----END PUBLIC KEY-----\n";
        return new PolicyServiceConfig() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return PolicyServiceConfig.class;
            }

            @Override
            public String itcenter_key_file() {
                return "";
            }

            @Override
            public String itcenter_key_pem() {
                return pem;
            }

            @Override
            public String security_levels() {
                return "untrusted, measured, trusted";
            }
        };
    }
}
