package io.ferry.migration.internal;

import java.io.IOException;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.Designate;

import io.ferry.api.attestation.PeerAttestation;
import io.ferry.api.channel.AgentChannels;
import io.ferry.api.channel.Channel;
import io.ferry.api.channel.ChannelHandler;
import io.ferry.api.hypervisor.Hypervisor;
import io.ferry.api.itcenter.ItCenterLink;
import io.ferry.api.migration.MigrationOutcome;
import io.ferry.api.migration.MigrationRequest;
import io.ferry.api.migration.MigrationStatus;
import io.ferry.api.migration.Migrations;
import io.ferry.api.migration.ProgressListener;
import io.ferry.api.policy.PolicyService;
import io.ferry.api.protection.HypervisorProtection;

/**
 * The agent's migration service: migrate-out for the owner (console, API), migrate-in for other
 * agents on channels of purpose {@value #PURPOSE}, and the gated tunnels of an accepted migrate-in:
 * libvirt's connection (purpose {@value LibvirtTunnelHandler#PURPOSE}) and QEMU's stream with the VM
 * state (purpose {@value QemuStreamHandler#PURPOSE}, when a stream folder is configured).
 *
 * <p>Every reference is dynamic and greedy: the IT center may update the attestation, policy,
 * hypervisor-protection or channel bundles while a migration runs, and this component must not
 * restart (and lose its migrations) when it does. A flow takes each service when it needs it;
 * hypervisor protection, briefly absent during a swap, is waited for a bounded time.
 */
@Component(service = { Migrations.class, ChannelHandler.class },
        property = ChannelHandler.PURPOSE + "=" + SecureMigrations.PURPOSE, configurationPid = "io.ferry.migration")
@Designate(ocd = MigrationConfig.class)
public final class SecureMigrations implements Migrations, ChannelHandler, Environment {

    /** The purpose of the control channel between source and target. */
    public static final String PURPOSE = "ferry-migration";

    @Reference(policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    volatile AgentChannels channels;

    @Reference(policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    volatile PolicyService policy;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile PeerAttestation attestation;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile HypervisorProtection protection;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile ItCenterLink itCenter;

    private final Map<String, Hypervisor> hypervisors = new ConcurrentHashMap<>();
    private final String defaultHost;
    private final MigrationEngine engine;
    private final LibvirtTunnelHandler tunnel;
    private final ServiceRegistration<ChannelHandler> tunnelRegistration;
    private final QemuStreamHandler stream;
    private final ServiceRegistration<ChannelHandler> streamRegistration;

    @Activate
    public SecureMigrations(MigrationConfig config, BundleContext context) {
        this.defaultHost = config.host();
        StreamSockets streams = StreamSockets.of(config);
        if (streams != null) {
            // the target's QEMU creates its socket here: the folder must exist before a migrate-in
            try {
                java.nio.file.Files.createDirectories(streams.agentFolder());
            } catch (java.io.IOException e) {
                throw new IllegalStateException("cannot create the stream folder " + streams.agentFolder() + ": "
                        + e.getMessage(), e);
            }
        }
        this.engine = new MigrationEngine(MigrationEngine.Limits.of(config), this, stateDir(config, context), streams);
        this.tunnel = new LibvirtTunnelHandler(LibvirtTunnelHandler.parse(config.libvirt_address()), engine.gate());
        this.stream = engine.streamHandler();
        this.tunnelRegistration = context.registerService(ChannelHandler.class, tunnel,
                purpose(LibvirtTunnelHandler.PURPOSE));
        this.streamRegistration = stream == null ? null
                : context.registerService(ChannelHandler.class, stream, purpose(QemuStreamHandler.PURPOSE));
    }

    private static Dictionary<String, Object> purpose(String purpose) {
        Dictionary<String, Object> props = new Hashtable<>();
        props.put(ChannelHandler.PURPOSE, purpose);
        return props;
    }

    /** The configured state folder, else Karaf's data folder, else the bundle's own data folder. */
    static java.nio.file.Path stateDir(MigrationConfig config, BundleContext context) {
        if (!config.state_dir().isBlank()) {
            return java.nio.file.Path.of(config.state_dir().trim());
        }
        String data = System.getProperty("karaf.data");
        if (data != null && !data.isBlank()) {
            return java.nio.file.Path.of(data, "ferry", "migration");
        }
        java.io.File own = context.getDataFile("state");
        if (own == null) {
            throw new IllegalStateException("no folder for the migration state: set state.dir");
        }
        return own.toPath();
    }

    @Deactivate
    public void close() {
        unregister(tunnelRegistration);
        unregister(streamRegistration);
        engine.close();
        tunnel.close();
        if (stream != null) {
            stream.close();
        }
    }

    private static void unregister(ServiceRegistration<?> registration) {
        try {
            if (registration != null) {
                registration.unregister();
            }
        } catch (IllegalStateException ignored) {
            // the bundle is stopping: unregistered already
        }
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void addHypervisor(Hypervisor hypervisor, Map<String, Object> properties) {
        hypervisors.put(String.valueOf(properties.get(Hypervisor.HOST_PROPERTY)), hypervisor);
    }

    void removeHypervisor(Hypervisor hypervisor, Map<String, Object> properties) {
        hypervisors.remove(String.valueOf(properties.get(Hypervisor.HOST_PROPERTY)), hypervisor);
    }

    // Migrations

    @Override
    public MigrationOutcome migrateOut(MigrationRequest request, ProgressListener listener) {
        return engine.migrateOut(request, listener);
    }

    @Override
    public List<MigrationStatus> inFlight() {
        return engine.inFlight();
    }

    @Override
    public boolean abort(String idOrVm) {
        return engine.abort(idOrVm);
    }

    @Override
    public List<MigrationOutcome> history() {
        return engine.history();
    }

    // ChannelHandler: migrate-in

    @Override
    public void accept(Channel channel) throws IOException {
        engine.migrateIn(channel);
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
        Hypervisor h = hypervisors.get(host != null ? host : defaultHost);
        if (h == null && host == null && hypervisors.size() == 1) {
            return hypervisors.values().iterator().next();
        }
        return h;
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
}
