package io.ferry.itcenter.approvals;

import java.nio.file.Path;
import java.time.Duration;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.Designate;

import io.ferry.api.attestation.Attestations;
import io.ferry.api.attestation.SecurityLevels;
import io.ferry.api.itcenter.Agent;
import io.ferry.api.itcenter.AgentStatus;
import io.ferry.api.itcenter.ApprovalAuthority;
import io.ferry.api.itcenter.AuditEntry;
import io.ferry.api.itcenter.ItCenter;
import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.itcenter.ItCenterException.Reason;
import io.ferry.api.seal.Approval;
import io.ferry.api.seal.ApprovalRequest;
import io.ferry.api.tpm.Pcr;
import io.ferry.itcenter.attestation.ProvedPcrs;
import io.ferry.itcenter.internal.Store;

/**
 * The IT center's approvals of platform states for agents' seal storage: a signature over the
 * PCR values an agent's sealed key may be released under, at a version higher than every
 * approval that agent was given before, so that installing it retires the older ones (the TPM's
 * NV counter moves past them). Every approval is recorded and audited as {@code approval.issued}.
 * <p>
 * Two ways in: the console ({@code itcenter:approve}: an operator decided), and the agent itself over REST
 * ({@link #approveAttested}: only PCR values that the IT center's latest verdict for that agent proved, at
 * the configured level and age; every refusal is audited as {@code approval.refused}).
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
    private final String level;
    private final Duration maxAge;
    private final Supplier<SecurityLevels> levels;

    /** The attestation component's levels (optional: without it no attested approval is given). */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile Attestations attestations;

    @Activate
    public SealApprovals(ApprovalConfig config, @Reference Store store, @Reference ItCenter itCenter) {
        this.store = store;
        this.itCenter = itCenter;
        this.key = ApprovalKey.openOrCreate(keyFile(config));
        this.clock = Clock.systemUTC();
        this.level = config.level().strip();
        this.maxAge = Duration.ofMinutes(Math.max(1, config.max_age_minutes()));
        this.levels = () -> {
            Attestations a = attestations;
            return a == null ? null : a.levels();
        };
    }

    /** For tests: the settings and the levels given. */
    SealApprovals(Store store, ItCenter itCenter, ApprovalKey key, Clock clock, String level, Duration maxAge,
            Supplier<SecurityLevels> levels) {
        this.store = store;
        this.itCenter = itCenter;
        this.key = key;
        this.clock = clock;
        this.level = level;
        this.maxAge = maxAge;
        this.levels = levels;
    }

    SealApprovals(Store store, ItCenter itCenter, ApprovalKey key, Clock clock) {
        this(store, itCenter, key, clock, "trusted", Duration.ofMinutes(10), () -> SecurityLevels.DEFAULT);
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
        return issue(tracked, auditAgent, device, request, actor, "");
    }

    /**
     * The agent's own request over REST: approves only PCR values that the IT center's latest verdict for
     * that agent proved (a genuine quote of exactly those values), at {@code level} or above and at most
     * {@code max.age.minutes} old. Anything else is refused (CONFLICT) and audited as {@code approval.refused}.
     *
     * @param agentId the authenticated agent (its client certificate)
     * @throws ItCenterException NOT_FOUND for an unknown agent, CONFLICT for a revoked one or when the latest
     *         verdict does not prove the request, UNAVAILABLE when the IT center's attestation is not running
     */
    public Approval approveAttested(String agentId, ApprovalRequest request, String actor) {
        Agent agent = itCenter.agent(agentId)
                .orElseThrow(() -> new ItCenterException(Reason.NOT_FOUND, "no agent " + agentId));
        if (agent.status() == AgentStatus.REVOKED) {
            throw refused(agent.id(), actor, Reason.CONFLICT, "agent " + agent.name() + " is revoked");
        }
        SecurityLevels known = levels.get();
        if (known == null) {
            throw new ItCenterException(Reason.UNAVAILABLE, "the IT center's attestation is not running: it cannot "
                    + "tell which PCR values this agent proved");
        }
        ProvedPcrs.Latest latest = store.transaction(t -> ProvedPcrs.latest(t.connection(), agent.id())).orElseThrow(
                () -> refused(agent.id(), actor, Reason.CONFLICT, "agent " + agent.name() + " has never attested: "
                        + "attest first, then ask for the approval"));
        Instant now = clock.instant();
        String which = "its latest verdict (#" + latest.seq() + ", " + latest.level() + " at " + latest.at() + ")";
        if (!latest.genuine()) {
            throw refused(agent.id(), actor, Reason.CONFLICT, which + " is not genuine: it proves no PCR value");
        }
        if (!known.atLeast(latest.level(), level)) {
            throw refused(agent.id(), actor, Reason.CONFLICT, which + " is below " + level);
        }
        if (latest.at().plus(maxAge).isBefore(now)) {
            throw refused(agent.id(), actor, Reason.CONFLICT, which + " is older than " + maxAge.toMinutes()
                    + " minutes: attest again");
        }
        for (Pcr asked : request.pcrs()) {
            Optional<Pcr> proved = latest.pcrs().stream().filter(p -> p.index() == asked.index()).findFirst();
            if (proved.isEmpty()) {
                throw refused(agent.id(), actor, Reason.CONFLICT, which + " did not quote PCR " + asked.index());
            }
            if (!proved.get().equals(asked)) {
                throw refused(agent.id(), actor, Reason.CONFLICT, "PCR " + asked.index() + " = " + asked.hex()
                        + " is not what " + which + " proved (" + proved.get().hex() + ")");
            }
        }
        return issue(agent.id(), agent.id(), agent.id(), request, actor, " (proved by attestation #" + latest.seq() + ")");
    }

    private ItCenterException refused(String agentId, String actor, Reason reason, String why) {
        store.transaction(t -> t.appendAudit(new AuditEntry("approval.refused", agentId, null, actor,
                "seal approval refused: " + why), clock.instant()));
        return new ItCenterException(reason, "seal approval refused: " + why);
    }

    private Approval issue(String tracked, String auditAgent, String device, ApprovalRequest request, String actor,
            String why) {
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
                            + "enrolled) " : "") + pcrs + why), now);
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
