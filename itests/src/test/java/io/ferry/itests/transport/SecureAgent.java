package io.ferry.itests.transport;

import java.io.IOException;
import java.lang.annotation.Annotation;
import java.net.InetSocketAddress;
import java.net.URI;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import io.ferry.api.attestation.PeerAttestation;
import io.ferry.api.attestation.SecurityLevels;
import io.ferry.api.channel.AgentAddress;
import io.ferry.api.channel.AgentChannels;
import io.ferry.api.channel.AgentCredentials;
import io.ferry.api.channel.ChannelHandler;
import io.ferry.api.hypervisor.Hypervisor;
import io.ferry.api.itcenter.ItCenterLink;
import io.ferry.api.policy.PolicyService;
import io.ferry.api.protection.HypervisorProtection;
import io.ferry.api.protection.IntegrityCheck;
import io.ferry.channel.internal.TlsAgentChannels;
import io.ferry.channel.testing.TestChannels;
import io.ferry.hypervisor.internal.LibvirtHypervisor;
import io.ferry.migration.internal.Environment;
import io.ferry.migration.internal.LibvirtTunnelHandler;
import io.ferry.migration.internal.MigrationEngine;
import io.ferry.migration.internal.SecureMigrations;
import io.ferry.policy.internal.NimbusPolicySigner;
import io.ferry.policy.internal.PolicyServiceConfig;
import io.ferry.policy.internal.SealedPolicyService;

/**
 * One agent for secure-migration tests and benchmarks outside Karaf: mutual-TLS channels from a
 * test CA, the real migration engine with its relay and gated libvirt tunnel, the real policy
 * service (in-memory seal storage) trusting a test IT-center policy key, and the agent's libvirt
 * host. Peer attestation ({@link BindingAttestation}) and hypervisor protection (always intact)
 * are TEST DOUBLES: their real implementations need a running IT center and a protection baseline.
 */
public final class SecureAgent implements Environment, AutoCloseable {

    public static final SecurityLevels LEVELS = new SecurityLevels(List.of("untrusted", "measured", "trusted"));

    final TlsAgentChannels raw;
    final TappedChannels tapped;
    final SealedPolicyService policy;
    final BindingAttestation attestation = new BindingAttestation();
    /** TEST DOUBLE: the real check needs a protection baseline of the guest. */
    final HypervisorProtection protection = (host, domain) -> new IntegrityCheck(domain,
            IntegrityCheck.Status.INTACT, List.of(), Instant.now());
    final LibvirtHypervisor hypervisor;
    public final MigrationEngine engine;
    final LibvirtTunnelHandler tunnel;

    /**
     * @param marker when not null, the agent's outgoing libvirt tunnels are tapped for it (see {@link TappedChannels})
     */
    public SecureAgent(AgentCredentials credentials, LibvirtHypervisor hypervisor, KeyPair policyKey, byte[] marker)
            throws IOException {
        this.raw = TestChannels.start(credentials);
        this.tapped = marker != null ? new TappedChannels(raw, marker) : null;
        this.hypervisor = hypervisor;
        this.policy = new SealedPolicyService(policyConfig(policyKey), new MemorySealStorage());
        this.engine = new MigrationEngine(new MigrationEngine.Limits(hypervisor.hostName(), Duration.ofSeconds(15),
                Duration.ofSeconds(120), Duration.ofMillis(300), Duration.ofSeconds(2), true, 50,
                Duration.ofSeconds(10)), this);
        URI libvirt = URI.create(hypervisor.uri());
        this.tunnel = engine.tunnelHandler(new InetSocketAddress(libvirt.getHost(), libvirt.getPort()));
        raw.addHandler(tunnel, Map.of(ChannelHandler.PURPOSE, LibvirtTunnelHandler.PURPOSE));
        raw.addHandler(engine::migrateIn, Map.of(ChannelHandler.PURPOSE, SecureMigrations.PURPOSE));
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
     * A signed policy: owner alice may move the VM both ways between the named devices, both at least
     * 'measured'.
     */
    public static String signedPolicy(KeyPair key, String vm, String uuid, String... devices) {
        String document = """
                ferry-policy: 1
                version: 1
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
                    min-target-level: measured
                    min-source-level: measured
                """.formatted(vm, uuid, "ab".repeat(32), String.join(", ", devices));
        return new NimbusPolicySigner().sign(document, LEVELS, key).jws();
    }

    @Override
    public void close() {
        engine.close();
        raw.close();
        tunnel.close();
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
        return null;
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
