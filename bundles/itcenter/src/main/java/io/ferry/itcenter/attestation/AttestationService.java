package io.ferry.itcenter.attestation;

import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.spec.X509EncodedKeySpec;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.Designate;

import io.ferry.api.attestation.AppraisalPolicy;
import io.ferry.api.attestation.AttestationRecord;
import io.ferry.api.attestation.AttestationResult;
import io.ferry.api.attestation.Attestations;
import io.ferry.api.attestation.Evidence;
import io.ferry.api.attestation.Reason;
import io.ferry.api.attestation.Reason.Code;
import io.ferry.api.attestation.ReferenceValue;
import io.ferry.api.attestation.Remediation;
import io.ferry.api.attestation.SecurityLevels;
import io.ferry.api.attestation.Verdict;
import io.ferry.api.itcenter.AuditEntry;
import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.itcenter.Release;
import io.ferry.api.itcenter.ReleaseRepository;
import io.ferry.api.tpm.Pcr;
import io.ferry.attestation.verifier.Expectation;
import io.ferry.attestation.verifier.Verifier;
import io.ferry.attestation.wire.AttestationJson;
import io.ferry.attestation.wire.EvidenceSubmission;
import io.ferry.attestation.wire.NonceGrant;
import io.ferry.attestation.wire.NonceRequest;
import io.ferry.itcenter.internal.Store;

/**
 * The IT center's attestation: single-use nonces kept in the database, verdicts by the pure
 * {@link Verifier} against the agent's enrolled attestation key ({@code agent.ak_public}) and the
 * published reference values, the remediation when a verdict is below the level asked for, and the
 * record of each verdict ({@code attestation}, {@code agent.last_verdict}, an {@code attestation.verdict}
 * audit event in the same transaction).
 */
@Component(service = { AttestationService.class, Attestations.class }, configurationPid = "io.ferry.itcenter.attestation",
        configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = AttestationConfig.class)
public final class AttestationService implements Attestations {

    /** What the configuration says. */
    record Settings(AppraisalPolicy policy, int pcr, Duration nonceTtl, Map<String, String> featureOverrides,
            String featuresRepository, Set<String> withdrawn) {

        Settings(AppraisalPolicy policy, int pcr, Duration nonceTtl, Map<String, String> featureOverrides,
                String featuresRepository) {
            this(policy, pcr, nonceTtl, featureOverrides, featuresRepository, Set.of());
        }

        Settings {
            withdrawn = Set.copyOf(withdrawn);
        }

        /** Whether a reference value belongs to a withdrawn release (by release name or component@version). */
        boolean withdraws(ReferenceValue r) {
            return !withdrawn.isEmpty() && (withdrawn.contains(r.release())
                    || withdrawn.contains(r.component() + "@" + r.version()));
        }

        static Settings of(AttestationConfig c) {
            SecurityLevels levels = new SecurityLevels(split(c.security_levels()));
            Map<String, String> overrides = new LinkedHashMap<>();
            for (String o : split(c.feature_overrides())) {
                int eq = o.indexOf('=');
                if (eq <= 0 || eq == o.length() - 1) {
                    throw new IllegalArgumentException("feature.overrides: symbolicName=feature, not '" + o + "'");
                }
                overrides.put(o.substring(0, eq).trim(), o.substring(eq + 1).trim());
            }
            if (c.nonce_ttl_seconds() < 1) {
                throw new IllegalArgumentException("nonce.ttl.seconds must be at least 1");
            }
            return new Settings(new AppraisalPolicy(levels, c.unknown_level(), Set.copyOf(split(c.required_components())),
                    c.strict_history()), c.measurement_pcr(), Duration.ofSeconds(c.nonce_ttl_seconds()), overrides,
                    c.features_repository().isBlank() ? null : c.features_repository().trim(),
                    Set.copyOf(split(c.withdrawn())));
        }

        static List<String> split(String[] values) {
            return Arrays.stream(values).flatMap(v -> Arrays.stream(v.split(","))).map(String::trim)
                    .filter(v -> !v.isEmpty()).toList();
        }
    }

    /** A nonce as stored. */
    private record NonceRow(String requester, String agentId, byte[] binding, Instant expiresAt, Instant usedAt) {
    }

    static final int MAX_RESULT_CHARS = 200_000;
    private static final HexFormat HEX = HexFormat.of();

    private final Store store;
    private final Settings settings;
    private final Clock clock;
    private final Supplier<List<Release>> releases;
    private final SecureRandom random = new SecureRandom();

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile ReleaseRepository repository;

    @Activate
    public AttestationService(AttestationConfig config, @Reference Store store) {
        this.store = store;
        this.settings = Settings.of(config);
        this.clock = Clock.systemUTC();
        this.releases = () -> {
            ReleaseRepository r = repository;
            try {
                return r == null ? List.of() : r.releases();
            } catch (RuntimeException e) {
                return List.of();
            }
        };
    }

    /** For tests: a clock of their own and the releases they publish. */
    AttestationService(Store store, Settings settings, Clock clock, Supplier<List<Release>> releases) {
        this.store = store;
        this.settings = settings;
        this.clock = clock;
        this.releases = releases;
    }

    @Override
    public SecurityLevels levels() {
        return settings.policy().levels();
    }

    // ---- nonces -------------------------------------------------------------------------------------

    /**
     * A fresh single-use nonce for the caller itself or, with {@link NonceRequest#agent()}, for a peer agent
     * bound to the caller's value. The agent it is for must be active and have an enrolled attestation key.
     */
    public NonceGrant issueNonce(String caller, NonceRequest request) {
        String agentId = request.agent() == null ? caller : request.agent();
        byte[] binding = request.binding();
        if (binding.length > Evidence.MAX_BINDING_BYTES) {
            throw new ItCenterException(ItCenterException.Reason.INVALID, "binding: at most "
                    + Evidence.MAX_BINDING_BYTES + " bytes");
        }
        byte[] nonce = new byte[Evidence.NONCE_BYTES];
        random.nextBytes(nonce);
        Instant now = clock.instant();
        Instant expires = now.plus(settings.nonceTtl());
        return store.transaction(t -> {
            Connection c = t.connection();
            requireAttestable(c, agentId);
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM attestation_nonce WHERE expires_at < ?")) {
                ps.setObject(1, odt(now.minus(Duration.ofDays(1))));
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO attestation_nonce "
                    + "(nonce, requester, agent_id, binding, issued_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)")) {
                ps.setString(1, HEX.formatHex(nonce));
                ps.setString(2, caller);
                ps.setString(3, agentId);
                ps.setString(4, HEX.formatHex(binding));
                ps.setObject(5, odt(now));
                ps.setObject(6, odt(expires));
                ps.executeUpdate();
            }
            return new NonceGrant(nonce, agentId, binding, expires);
        });
    }

    private static void requireAttestable(Connection c, String agentId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT a.ak_public, r.agent_id FROM agent a "
                + "LEFT JOIN agent_revocation r ON r.agent_id = a.id WHERE a.id = ?")) {
            ps.setString(1, agentId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new ItCenterException(ItCenterException.Reason.NOT_FOUND, "no agent " + agentId);
                }
                if (rs.getString(2) != null) {
                    throw new ItCenterException(ItCenterException.Reason.CONFLICT, "agent " + agentId + " is revoked");
                }
                if (rs.getString(1) == null || rs.getString(1).isBlank()) {
                    throw new ItCenterException(ItCenterException.Reason.CONFLICT, "agent " + agentId
                            + " has no enrolled attestation key");
                }
            }
        }
    }

    // ---- verdicts -----------------------------------------------------------------------------------

    /**
     * Judges evidence for a nonce the caller was granted. The nonce is consumed first, atomically, so that
     * of any number of (concurrent) submissions for it at most one is judged on its merits; every other, and
     * evidence for a nonce that expired, was never issued, was issued to someone else or for another agent,
     * gets the lowest level with the reason. Every verdict is recorded and audited.
     *
     * @throws ItCenterException INVALID for an unknown required level
     */
    public AttestationResult submit(String caller, EvidenceSubmission submission) {
        String required = submission.requiredLevel();
        if (required != null) {
            try {
                levels().rank(required);
            } catch (IllegalArgumentException e) {
                throw new ItCenterException(ItCenterException.Reason.INVALID, e.getMessage());
            }
        }
        String agentId = submission.agent() == null ? caller : submission.agent();
        Evidence evidence = submission.evidence();
        Instant now = clock.instant();
        String nonceHex = HEX.formatHex(evidence.nonce());

        // 1. the nonce: consumed by this submission, or the reason why not
        Object consumed = store.transaction(t -> consume(t.connection(), nonceHex, caller, agentId, now));
        Verdict verdict;
        Remediation remediation = Remediation.NONE;
        boolean peer;
        if (consumed instanceof Reason refusal) {
            verdict = new Verdict(levels().lowest(), false, List.of(refusal), List.of(), List.of());
            peer = !caller.equals(agentId);
        } else {
            NonceRow nonce = (NonceRow) consumed;
            peer = !nonce.requester().equals(nonce.agentId()) || nonce.binding().length > 0;
            // 2. the enrolled key and the reference values
            record Known(String akPublic, List<ReferenceValue> references) {
            }
            Known known = store.transaction(t -> new Known(akPublic(t.connection(), agentId),
                    referenceValues(t.connection()).stream().filter(r -> !settings.withdraws(r)).toList()));
            PublicKey ak = publicKey(known.akPublic());
            if (ak == null) {
                verdict = new Verdict(levels().lowest(), false, List.of(new Reason(Code.BAD_SIGNATURE, null,
                        "agent " + agentId + " has no usable enrolled attestation key")), List.of(), List.of());
            } else {
                // 3. the pure verifier
                verdict = Verifier.verify(evidence, new Expectation(ak, null, evidence.nonce(), nonce.binding(),
                        settings.pcr()), settings.policy(), known.references());
                if (required != null && !levels().atLeast(verdict.level(), required)) {
                    remediation = Remediations.of(verdict, evidence.log(), known.references(), releases.get(),
                            settings.featureOverrides(), settings.featuresRepository());
                }
            }
        }
        if (required != null && !levels().atLeast(verdict.level(), required) && remediation == Remediation.NONE) {
            remediation = Remediations.of(verdict, evidence.log(), List.of(), List.of(), Map.of(), null);
        }
        boolean qualifies = required == null || levels().atLeast(verdict.level(), required);
        AttestationResult result = new AttestationResult(agentId, now, verdict, required, qualifies,
                qualifies ? Remediation.NONE : remediation);
        // a genuine verdict proves the quoted PCR values: what seal approvals may sign for this agent
        record(caller, peer, result, verdict.genuine() ? evidence.pcrs() : null);
        return result;
    }

    /** Consumes the nonce for this caller and agent; returns its row, or the Reason it cannot be used. */
    private Object consume(Connection c, String nonceHex, String caller, String agentId, Instant now)
            throws SQLException {
        NonceRow row;
        try (PreparedStatement ps = c.prepareStatement("SELECT requester, agent_id, binding, expires_at, used_at "
                + "FROM attestation_nonce WHERE nonce = ?")) {
            ps.setString(1, nonceHex);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return new Reason(Code.WRONG_NONCE, null, "the evidence answers nonce " + nonceHex.substring(0, 16)
                            + "..., which this IT center did not issue (or purged a day after it expired)");
                }
                row = new NonceRow(rs.getString(1), rs.getString(2), HEX.parseHex(rs.getString(3)), instant(rs, 4),
                        instant(rs, 5));
            }
        }
        if (!row.requester().equals(caller)) {
            return new Reason(Code.WRONG_NONCE, null, "the nonce was issued to agent " + row.requester()
                    + ", not to the caller " + caller + ": it is not the caller's to use");
        }
        try (PreparedStatement ps = c.prepareStatement("UPDATE attestation_nonce SET used_at = ? "
                + "WHERE nonce = ? AND requester = ? AND used_at IS NULL AND expires_at > ?")) {
            ps.setObject(1, odt(now));
            ps.setString(2, nonceHex);
            ps.setString(3, caller);
            ps.setObject(4, odt(now));
            if (ps.executeUpdate() != 1) {
                NonceRow again = reread(c, nonceHex);
                if (again != null && again.usedAt() != null) {
                    return new Reason(Code.STALE_NONCE, null, "the nonce was used already at " + again.usedAt()
                            + ": replayed evidence");
                }
                return new Reason(Code.STALE_NONCE, null, "the nonce expired at " + row.expiresAt() + " ("
                        + settings.nonceTtl().toSeconds() + " s after it was issued)");
            }
        }
        if (!row.agentId().equals(agentId)) {
            return new Reason(Code.WRONG_NONCE, null, "the nonce was issued for agent " + row.agentId()
                    + ", the evidence is sent as agent " + agentId + "'s (the nonce is now used)");
        }
        return row;
    }

    private static NonceRow reread(Connection c, String nonceHex) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT requester, agent_id, binding, expires_at, used_at "
                + "FROM attestation_nonce WHERE nonce = ?")) {
            ps.setString(1, nonceHex);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? new NonceRow(rs.getString(1), rs.getString(2), HEX.parseHex(rs.getString(3)),
                        instant(rs, 4), instant(rs, 5)) : null;
            }
        }
    }

    private static String akPublic(Connection c, String agentId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT ak_public FROM agent WHERE id = ?")) {
            ps.setString(1, agentId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    private static List<ReferenceValue> referenceValues(Connection c) throws SQLException {
        List<ReferenceValue> values = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT component, version, sha256, release_name, published_at FROM reference_value");
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                try {
                    values.add(new ReferenceValue(rs.getString(1), rs.getString(2), rs.getString(3).trim(),
                            rs.getString(4), instant(rs, 5)));
                } catch (IllegalArgumentException e) {
                    // a malformed row matches nothing: its component is then unknown, which lowers the level
                }
            }
        }
        return values;
    }

    /** The enrolled AK: base64 of its SubjectPublicKeyInfo (DER), EC or RSA; null when unusable. */
    static PublicKey publicKey(String base64) {
        if (base64 == null || base64.isBlank()) {
            return null;
        }
        byte[] der;
        try {
            der = Base64.getMimeDecoder().decode(base64.strip());
        } catch (IllegalArgumentException e) {
            return null;
        }
        for (String alg : new String[] { "EC", "RSA" }) {
            try {
                return KeyFactory.getInstance(alg).generatePublic(new X509EncodedKeySpec(der));
            } catch (java.security.GeneralSecurityException e) {
                // try the next
            }
        }
        return null;
    }

    private void record(String requester, boolean peer, AttestationResult result, List<Pcr> proved) {
        String json = AttestationJson.write(AttestationJson.toJson(result));
        if (json.length() > MAX_RESULT_CHARS) {
            Verdict v = result.verdict();
            List<Reason> few = new ArrayList<>(v.reasons().subList(0, Math.min(100, v.reasons().size())));
            few.add(new Reason(v.reasons().get(0).code(), null, "... " + (v.reasons().size() - 100)
                    + " more findings not kept"));
            json = AttestationJson.write(AttestationJson.toJson(new AttestationResult(result.agentId(), result.time(),
                    new Verdict(v.level(), v.genuine(), few, v.failing().subList(0, Math.min(100, v.failing().size())),
                            v.unknown().subList(0, Math.min(100, v.unknown().size()))),
                    result.requiredLevel(), result.qualifies(), Remediation.NONE)));
        }
        String stored = json;
        Verdict v = result.verdict();
        String summary = summary(result);
        store.transaction(t -> {
            Connection c = t.connection();
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO attestation (at, agent_id, requester, peer, "
                    + "level, genuine, required_level, qualifies, result, pcrs) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                ps.setObject(1, odt(result.time()));
                ps.setString(2, result.agentId());
                ps.setString(3, requester);
                ps.setBoolean(4, peer);
                ps.setString(5, v.level());
                ps.setBoolean(6, v.genuine());
                ps.setString(7, result.requiredLevel());
                ps.setBoolean(8, result.qualifies());
                ps.setString(9, stored);
                ps.setString(10, proved == null ? null : ProvedPcrs.format(proved));
                ps.executeUpdate();
            }
            // the agent's own evidence, or anyone's genuine evidence (signed by its AK), is its state; a
            // peer's failed attempt is recorded above but does not overwrite it
            if (v.genuine() || requester.equals(result.agentId())) {
                try (PreparedStatement ps = c.prepareStatement("UPDATE agent SET last_verdict = ? WHERE id = ?")) {
                    ps.setString(1, clip(v.level() + " at " + result.time() + (v.genuine() ? "" : " (not genuine)")
                            + (v.failing().isEmpty() ? "" : "; failing: " + String.join(", ", v.failing()))
                            + (v.unknown().isEmpty() ? "" : "; unknown: " + String.join(", ", v.unknown())), 2000));
                    ps.setString(2, result.agentId());
                    ps.executeUpdate();
                }
            }
            t.appendAudit(new AuditEntry("attestation.verdict", result.agentId(), null, "agent:" + requester,
                    summary), result.time());
            return null;
        });
    }

    static String summary(AttestationResult r) {
        Verdict v = r.verdict();
        StringBuilder b = new StringBuilder("level=").append(v.level()).append(" genuine=").append(v.genuine());
        if (r.requiredLevel() != null) {
            b.append(" required=").append(r.requiredLevel()).append(" qualifies=").append(r.qualifies());
        }
        for (Reason reason : v.reasons()) {
            if (reason.code() != Code.SUPERSEDED) {
                b.append("; ").append(reason);
            }
        }
        r.remediation().features().forEach(f -> b.append("; remediation: install ").append(f.feature()).append('/')
                .append(f.version()));
        return clip(b.toString(), 4000);
    }

    // ---- the record -----------------------------------------------------------------------------------

    @Override
    public List<AttestationRecord> attestations(String agentId, int limit) {
        if (limit < 1 || limit > 10_000) {
            throw new ItCenterException(ItCenterException.Reason.INVALID, "limit: 1 to 10000");
        }
        return store.transaction(t -> {
            String sql = "SELECT seq, requester, peer, result FROM attestation"
                    + (agentId == null ? "" : " WHERE agent_id = ?") + " ORDER BY seq DESC FETCH FIRST " + limit
                    + " ROWS ONLY";
            List<AttestationRecord> out = new ArrayList<>();
            try (PreparedStatement ps = t.connection().prepareStatement(sql)) {
                if (agentId != null) {
                    ps.setString(1, agentId);
                }
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new AttestationRecord(rs.getLong(1), rs.getString(2), rs.getBoolean(3),
                                AttestationJson.read(rs.getString(4), AttestationJson::result)));
                    }
                }
            }
            return out;
        });
    }

    @Override
    public Optional<AttestationRecord> latest(String agentId) {
        return attestations(agentId, 1).stream().findFirst();
    }

    private static OffsetDateTime odt(Instant i) {
        return i.atOffset(ZoneOffset.UTC);
    }

    private static Instant instant(ResultSet rs, int column) throws SQLException {
        OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }

    private static String clip(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max);
    }
}
