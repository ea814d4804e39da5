package io.ferry.itcenter.updates;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import io.ferry.api.updates.Update;
import io.ferry.api.updates.UpdateState;

/** The SQL of pushed updates (table agent_update, Flyway V7). */
final class UpdateTable {

    private static final String SELECT = "SELECT id, agent_id, feature, version, repository, state, detail, pushed_at, "
            + "reported_at FROM agent_update";

    private final Connection c;

    UpdateTable(Connection c) {
        this.c = c;
    }

    /** The agent's id, by id or by name, if it exists and is not revoked. */
    Optional<String> activeAgent(String idOrName) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT a.id FROM agent a WHERE (a.id = ? OR a.name = ?) "
                + "AND NOT EXISTS (SELECT 1 FROM agent_revocation r WHERE r.agent_id = a.id)")) {
            ps.setString(1, idOrName);
            ps.setString(2, idOrName);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
            }
        }
    }

    Update insert(String agent, String feature, String version, String repository, String actor, Instant at)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO agent_update (agent_id, feature, version, "
                + "repository, state, pushed_by, pushed_at) VALUES (?, ?, ?, ?, 'PENDING', ?, ?)", new String[] {"id"})) {
            ps.setString(1, agent);
            ps.setString(2, feature);
            ps.setString(3, version);
            ps.setString(4, repository);
            ps.setString(5, actor);
            ps.setObject(6, odt(at));
            ps.executeUpdate();
            try (ResultSet keys = ps.getGeneratedKeys()) {
                if (!keys.next()) {
                    throw new SQLException("no id for the update");
                }
                return new Update(keys.getLong(1), agent, feature, version, repository, UpdateState.PENDING, null, at,
                        null);
            }
        }
    }

    /** Locks and reads one update. */
    Optional<Update> lock(long id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(SELECT + " WHERE id = ? FOR UPDATE")) {
            ps.setLong(1, id);
            List<Update> l = read(ps);
            return l.isEmpty() ? Optional.empty() : Optional.of(l.get(0));
        }
    }

    void report(long id, UpdateState state, String detail, Instant at) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE agent_update SET state = ?, detail = ?, reported_at = ? WHERE id = ? AND state = 'PENDING'")) {
            ps.setString(1, state.name());
            ps.setString(2, detail);
            ps.setObject(3, odt(at));
            ps.setLong(4, id);
            if (ps.executeUpdate() != 1) {
                throw new SQLException("update " + id + " is not pending");
            }
        }
    }

    List<Update> pending(String agent) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(SELECT + " WHERE agent_id = ? AND state = 'PENDING' ORDER BY id")) {
            ps.setString(1, agent);
            return read(ps);
        }
    }

    List<Update> list(String agent, int limit) throws SQLException {
        String sql = SELECT + (agent == null ? "" : " WHERE agent_id = ?") + " ORDER BY id DESC FETCH FIRST "
                + limit + " ROWS ONLY";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            if (agent != null) {
                ps.setString(1, agent);
            }
            return read(ps);
        }
    }

    private static List<Update> read(PreparedStatement ps) throws SQLException {
        List<Update> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(new Update(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                        UpdateState.valueOf(rs.getString(6)), rs.getString(7), instant(rs, 8), instant(rs, 9)));
            }
        }
        return out;
    }

    private static OffsetDateTime odt(Instant i) {
        return i.atOffset(ZoneOffset.UTC);
    }

    private static Instant instant(ResultSet rs, int column) throws SQLException {
        OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }
}
