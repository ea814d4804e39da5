package io.ferry.itcenter.approvals;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;

import io.ferry.api.itcenter.Agent;
import io.ferry.api.itcenter.AgentStatus;
import io.ferry.api.itcenter.ApprovalAuthority;
import io.ferry.api.itcenter.AuditEntry;
import io.ferry.api.itcenter.ItCenter;
import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.itcenter.ItCenterException.Reason;
import io.ferry.api.seal.Approval;
import io.ferry.api.seal.ApprovalRequest;
import io.ferry.itcenter.internal.Store;

/**
 * The IT center's approvals of platform states for agents' seal storage: a signature over the
 * PCR values an agent's sealed key may be released under, at a version higher than every
 * approval that agent was given before, so that installing it retires the older ones (the TPM's
 * NV counter moves past them). Every approval is recorded and audited as {@code approval.issued}.
 */
@Component(service = { ApprovalAuthority.class, SealApprovals.class }, configurationPid = "io.ferry.itcenter.approvals",
        configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = ApprovalConfig.class)
public final class SealApprovals implements ApprovalAuthority {

    private static final Pattern DEVICE = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    private final Store store;
    private final ItCenter itCenter;
    private final ApprovalKey key;
    private final Clock clock;

    @Activate
    public SealApprovals(ApprovalConfig config, @Reference Store store, @Reference ItCenter itCenter) {
        this(store, itCenter, ApprovalKey.openOrCreate(keyFile(config)), Clock.systemUTC());
    }

    SealApprovals(Store store, ItCenter itCenter, ApprovalKey key, Clock clock) {
        this.store = store;
        this.itCenter = itCenter;
        this.key = key;
        this.clock = clock;
    }

    private static Path keyFile(ApprovalConfig config) {
        return config.key_file().isBlank()
                ? Path.of(System.getProperty("karaf.data", "data"), "itcenter", "approval", "key.pem").toAbsolutePath()
                : Path.of(config.key_file());
    }

    @Override
    public String publicKeyPem() {
        return key.publicKeyPem();
    }

    @Override
    public Approval approve(String device, ApprovalRequest request, String actor) {
        if (device == null || !DEVICE.matcher(device).matches()) {
            throw new ItCenterException(Reason.INVALID, "not a device or agent name: " + device);
        }
        Optional<Agent> agent = find(device);
        if (agent.isPresent() && agent.get().status() == AgentStatus.REVOKED) {
            throw new ItCenterException(Reason.CONFLICT, "agent " + agent.get().name() + " is revoked");
        }
        // an enrolled device is tracked by its agent id, whatever name the request used
        String tracked = agent.map(Agent::id).orElse(device);
        String auditAgent = agent.map(Agent::id).orElse(null);
        Instant now = clock.instant();
        return store.transaction(tables -> {
            Connection c = tables.connection();
            long last = lastVersion(c, tracked);
            long version = Math.max(request.minimumVersion(), last) + 1;
            Approval approval = new Approval(version, request.pcrs(), key.sign(request.signedMessage(version)));
            String pcrs = request.pcrs().stream().map(p -> p.index() + "=" + p.hex()).collect(Collectors.joining(","));
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO seal_approval (device, version, pcrs, issued_at, actor) VALUES (?, ?, ?, ?, ?)")) {
                ps.setString(1, tracked);
                ps.setLong(2, version);
                ps.setString(3, pcrs);
                ps.setObject(4, OffsetDateTime.ofInstant(now, ZoneOffset.UTC));
                ps.setString(5, actor);
                ps.executeUpdate();
            }
            tables.appendAudit(new AuditEntry("approval.issued", auditAgent, null, actor,
                    "seal approval version " + version + " for " + (auditAgent == null ? "device " + device + " (not "
                            + "enrolled) " : "") + pcrs), now);
            return approval;
        });
    }

    private Optional<Agent> find(String agent) {
        return itCenter.agent(agent).or(() -> itCenter.agents().stream().filter(x -> x.name().equals(agent)).findFirst());
    }

    private static long lastVersion(Connection c, String device) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT MAX(version) FROM seal_approval WHERE device = ?")) {
            ps.setString(1, device);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }
}
