package io.ferry.itcenter.enrolment;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Optional;

/** Enrolment's SQL (V3__enrolment.sql), on the transaction's connection. */
final class EnrolmentTables {

    record InvitationRow(String tokenHash, String name, String owner, String group, Instant expiresAt, Instant usedAt) {
    }

    record ChallengeRow(String id, String tokenHash, String secretHash, String ekCertificate, String akPublicArea,
            String group, Instant expiresAt, Instant usedAt) {
    }

    private final Connection c;

    EnrolmentTables(Connection c) {
        this.c = c;
    }

    boolean agentNamed(String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM agent WHERE name = ?")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    void insertInvitation(String tokenHash, String name, String owner, String group, Instant at, Instant expires,
            String by) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO enrolment_invitation "
                + "(token_sha256, name, owner, device_group, created_at, expires_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, tokenHash);
            ps.setString(2, name);
            ps.setString(3, owner);
            ps.setString(4, group);
            ps.setObject(5, odt(at));
            ps.setObject(6, odt(expires));
            ps.setString(7, by);
            ps.executeUpdate();
        }
    }

    Optional<InvitationRow> invitation(String tokenHash) throws SQLException {
        return invitationByHash(tokenHash);
    }

    Optional<InvitationRow> invitationByHash(String tokenHash) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT token_sha256, name, owner, device_group, expires_at, used_at "
                + "FROM enrolment_invitation WHERE token_sha256 = ?")) {
            ps.setString(1, tokenHash);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                return Optional.of(new InvitationRow(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                        instant(rs, 5), instant(rs, 6)));
            }
        }
    }

    /** Marks the invitation used by an agent; false when it was used already. */
    boolean spendInvitation(String tokenHash, String agentId, Instant at) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE enrolment_invitation SET used_at = ?, agent_id = ? "
                + "WHERE token_sha256 = ? AND used_at IS NULL")) {
            ps.setObject(1, odt(at));
            ps.setString(2, agentId);
            ps.setString(3, tokenHash);
            return ps.executeUpdate() == 1;
        }
    }

    void insertChallenge(String id, String tokenHash, String secretHash, String ekCertificate, String akPublicArea,
            String group, Instant at, Instant expires) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO enrolment_challenge (id, token_sha256, secret_sha256, "
                + "ek_certificate, ak_public_area, device_group, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, id);
            ps.setString(2, tokenHash);
            ps.setString(3, secretHash);
            ps.setString(4, ekCertificate);
            ps.setString(5, akPublicArea);
            ps.setString(6, group);
            ps.setObject(7, odt(at));
            ps.setObject(8, odt(expires));
            ps.executeUpdate();
        }
    }

    Optional<ChallengeRow> challenge(String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT id, token_sha256, secret_sha256, ek_certificate, "
                + "ak_public_area, device_group, expires_at, used_at FROM enrolment_challenge WHERE id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                return Optional.of(new ChallengeRow(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                        rs.getString(5), rs.getString(6), instant(rs, 7), instant(rs, 8)));
            }
        }
    }

    /** Marks the challenge answered; false when it was answered already. */
    boolean spendChallenge(String id, Instant at) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE enrolment_challenge SET used_at = ? WHERE id = ? AND used_at IS NULL")) {
            ps.setObject(1, odt(at));
            ps.setString(2, id);
            return ps.executeUpdate() == 1;
        }
    }

    /** The enrolled agent's EK certificate (base64 DER), AK (base64 DER SubjectPublicKeyInfo) and AK name (hex). */
    void recordKeys(String agentId, String ekCertificate, String akPublic, String akName) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE agent SET ek_certificate = ?, ak_public = ?, ak_name = ? WHERE id = ?")) {
            ps.setString(1, ekCertificate);
            ps.setString(2, akPublic);
            ps.setString(3, akName);
            ps.setString(4, agentId);
            if (ps.executeUpdate() != 1) {
                throw new SQLException("no agent " + agentId + " to record keys for");
            }
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
