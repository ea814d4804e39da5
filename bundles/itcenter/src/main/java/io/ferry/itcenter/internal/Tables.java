package io.ferry.itcenter.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import io.ferry.api.itcenter.Agent;
import io.ferry.api.itcenter.AgentStatus;
import io.ferry.api.itcenter.AuditEntry;
import io.ferry.api.itcenter.AuditEvent;
import io.ferry.api.itcenter.AuditQuery;
import io.ferry.api.attestation.ReferenceValue;

/**
 * Every statement the IT center runs, on one connection. The append-only tables (audit_event,
 * revocation, agent_revocation) have INSERT and SELECT here and nothing else.
 */
public final class Tables {

    /** A certificate row. */
    record CertificateRow(String serial, String agentId, Instant notBefore, Instant notAfter, String pem,
            Instant revokedAt) {
    }

    /** A revoked serial. */
    record Revoked(String serial, Instant revokedAt) {
    }

    private static final String AGENT_SELECT = "SELECT a.id, a.name, a.owner, a.device_group, a.registered_at, "
            + "a.last_verdict, r.revoked_at, "
            + "(SELECT c.serial FROM certificate c WHERE c.agent_id = a.id ORDER BY c.issued_at DESC, c.not_after DESC "
            + "FETCH FIRST 1 ROWS ONLY) AS serial, "
            + "(SELECT MAX(c.not_after) FROM certificate c WHERE c.agent_id = a.id) AS not_after "
            + "FROM agent a LEFT JOIN agent_revocation r ON r.agent_id = a.id";

    private final Connection c;

    Tables(Connection c) {
        this.c = c;
    }

    /** The transaction's connection, for an area's own tables. */
    public Connection connection() {
        return c;
    }

    // --- agents

    void insertAgent(String id, String name, String owner, String group, Instant at) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO agent (id, name, owner, device_group, registered_at) VALUES (?, ?, ?, ?, ?)")) {
            ps.setString(1, id);
            ps.setString(2, name);
            ps.setString(3, owner);
            ps.setString(4, group);
            ps.setObject(5, odt(at));
            ps.executeUpdate();
        }
    }

    void setLastVerdict(String agentId, String verdict) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE agent SET last_verdict = ? WHERE id = ?")) {
            ps.setString(1, verdict);
            ps.setString(2, agentId);
            ps.executeUpdate();
        }
    }

    List<Agent> agents() throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(AGENT_SELECT + " ORDER BY a.name")) {
            return readAgents(ps);
        }
    }

    Optional<Agent> agent(String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(AGENT_SELECT + " WHERE a.id = ?")) {
            ps.setString(1, id);
            return readAgents(ps).stream().findFirst();
        }
    }

    Optional<Agent> agentByName(String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(AGENT_SELECT + " WHERE a.name = ?")) {
            ps.setString(1, name);
            return readAgents(ps).stream().findFirst();
        }
    }

    private static List<Agent> readAgents(PreparedStatement ps) throws SQLException {
        List<Agent> agents = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                agents.add(new Agent(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                        rs.getObject(7) == null ? AgentStatus.ACTIVE : AgentStatus.REVOKED, instant(rs, 5),
                        rs.getString(8), instant(rs, 9), rs.getString(6)));
            }
        }
        return agents;
    }

    void insertAgentRevocation(String agentId, Instant at, String reason) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO agent_revocation (agent_id, revoked_at, reason) VALUES (?, ?, ?)")) {
            ps.setString(1, agentId);
            ps.setObject(2, odt(at));
            ps.setString(3, reason);
            ps.executeUpdate();
        }
    }

    // --- certificates

    void insertCertificate(String serial, String agentId, Instant notBefore, Instant notAfter, String pem,
            Instant issuedAt) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO certificate "
                + "(serial, agent_id, not_before, not_after, pem, issued_at) VALUES (?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, serial);
            ps.setString(2, agentId);
            ps.setObject(3, odt(notBefore));
            ps.setObject(4, odt(notAfter));
            ps.setString(5, pem);
            ps.setObject(6, odt(issuedAt));
            ps.executeUpdate();
        }
    }

    private static final String CERT_SELECT = "SELECT c.serial, c.agent_id, c.not_before, c.not_after, c.pem, "
            + "r.revoked_at FROM certificate c LEFT JOIN revocation r ON r.serial = c.serial";

    Optional<CertificateRow> certificate(String serial) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(CERT_SELECT + " WHERE c.serial = ?")) {
            ps.setString(1, serial);
            return readCertificates(ps).stream().findFirst();
        }
    }

    List<CertificateRow> certificates(String agentId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(CERT_SELECT + " WHERE c.agent_id = ? ORDER BY c.issued_at")) {
            ps.setString(1, agentId);
            return readCertificates(ps);
        }
    }

    private static List<CertificateRow> readCertificates(PreparedStatement ps) throws SQLException {
        List<CertificateRow> rows = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                rows.add(new CertificateRow(rs.getString(1), rs.getString(2), instant(rs, 3), instant(rs, 4),
                        rs.getString(5), instant(rs, 6)));
            }
        }
        return rows;
    }

    void insertRevocation(String serial, Instant at, String reason) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO revocation (serial, revoked_at, reason) VALUES (?, ?, ?)")) {
            ps.setString(1, serial);
            ps.setObject(2, odt(at));
            ps.setString(3, reason);
            ps.executeUpdate();
        }
    }

    List<Revoked> revocations() throws SQLException {
        List<Revoked> revoked = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT serial, revoked_at FROM revocation ORDER BY revoked_at");
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                revoked.add(new Revoked(rs.getString(1), instant(rs, 2)));
            }
        }
        return revoked;
    }

    // --- reference values

    void insertReferenceValue(ReferenceValue v) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO reference_value "
                + "(component, version, sha256, release_name, published_at) VALUES (?, ?, ?, ?, ?)")) {
            ps.setString(1, v.component());
            ps.setString(2, v.version());
            ps.setString(3, v.sha256());
            ps.setString(4, v.release());
            ps.setObject(5, odt(v.publishedAt()));
            ps.executeUpdate();
        }
    }

    List<ReferenceValue> referenceValues() throws SQLException {
        List<ReferenceValue> values = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT component, version, sha256, release_name, published_at "
                + "FROM reference_value ORDER BY component, version, sha256");
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                values.add(new ReferenceValue(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                        instant(rs, 5)));
            }
        }
        return values;
    }

    // --- audit log (append-only)

    public AuditEvent appendAudit(AuditEntry e, Instant at) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO audit_event (at, kind, agent_id, vm, actor, detail) VALUES (?, ?, ?, ?, ?, ?)",
                new String[] {"seq"})) {
            ps.setObject(1, odt(at));
            ps.setString(2, e.kind());
            setNullable(ps, 3, e.agent());
            setNullable(ps, 4, e.vm());
            ps.setString(5, e.actor());
            ps.setString(6, e.detail());
            ps.executeUpdate();
            try (ResultSet keys = ps.getGeneratedKeys()) {
                if (!keys.next()) {
                    throw new SQLException("no sequence number for the audit event");
                }
                return new AuditEvent(keys.getLong(1), at, e.kind(), e.agent(), e.vm(), e.actor(), e.detail());
            }
        }
    }

    List<AuditEvent> audit(AuditQuery q) throws SQLException {
        StringBuilder where = new StringBuilder();
        List<Object> args = new ArrayList<>();
        if (q.agent() != null) {
            where.append(" AND agent_id = ?");
            args.add(q.agent());
        }
        if (q.vm() != null) {
            where.append(" AND vm = ?");
            args.add(q.vm());
        }
        if (q.kind() != null) {
            if (q.kind().endsWith(".*")) {
                where.append(" AND kind LIKE ?");
                args.add(q.kind().substring(0, q.kind().length() - 1) + "%");
            } else {
                where.append(" AND kind = ?");
                args.add(q.kind());
            }
        }
        if (q.since() != null) {
            where.append(" AND at >= ?");
            args.add(odt(q.since()));
        }
        String sql = "SELECT seq, at, kind, agent_id, vm, actor, detail FROM audit_event"
                + (where.length() == 0 ? "" : " WHERE" + where.substring(4))
                + " ORDER BY seq DESC FETCH FIRST " + q.limit() + " ROWS ONLY";
        List<AuditEvent> events = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.size(); i++) {
                ps.setObject(i + 1, args.get(i));
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    events.add(new AuditEvent(rs.getLong(1), instant(rs, 2), rs.getString(3), rs.getString(4),
                            rs.getString(5), rs.getString(6), rs.getString(7)));
                }
            }
        }
        java.util.Collections.reverse(events);
        return events;
    }

    private static void setNullable(PreparedStatement ps, int i, String value) throws SQLException {
        if (value == null) {
            ps.setNull(i, Types.VARCHAR);
        } else {
            ps.setString(i, value);
        }
    }

    private static OffsetDateTime odt(Instant i) {
        return i.atOffset(ZoneOffset.UTC);
    }

    private static Instant instant(ResultSet rs, int column) throws SQLException {
        OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }
}
