package io.ferry.itcenter.repository;

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

import io.ferry.api.attestation.ReferenceValue;
import io.ferry.api.itcenter.Release;

/** The repository's statements (V6 tables, and reference_value of V1), on one transaction's connection. */
final class RepositoryTables {

    /** A served file. */
    record Artifact(String path, String groupId, String artifactId, String version, String sha256, long size,
            Instant publishedAt) {
    }

    private final Connection c;

    RepositoryTables(Connection c) {
        this.c = c;
    }

    Optional<Artifact> artifact(String path) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT path, group_id, artifact_id, version, sha256, "
                + "byte_count, published_at FROM repository_artifact WHERE path = ?")) {
            ps.setString(1, path);
            List<Artifact> a = read(ps);
            return a.stream().findFirst();
        }
    }

    /** The artifacts of one group and artifact id, oldest publication first. */
    List<Artifact> artifacts(String groupId, String artifactId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT path, group_id, artifact_id, version, sha256, "
                + "byte_count, published_at FROM repository_artifact WHERE group_id = ? AND artifact_id = ? "
                + "ORDER BY published_at, path")) {
            ps.setString(1, groupId);
            ps.setString(2, artifactId);
            return read(ps);
        }
    }

    private static List<Artifact> read(PreparedStatement ps) throws SQLException {
        List<Artifact> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(new Artifact(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                        rs.getString(5).strip(), rs.getLong(6), instant(rs, 7)));
            }
        }
        return out;
    }

    /** Records a file (or, for a SNAPSHOT, its new content). */
    void putArtifact(Artifact a) throws SQLException {
        boolean exists = artifact(a.path()).isPresent();
        String sql = exists
                ? "UPDATE repository_artifact SET group_id = ?, artifact_id = ?, version = ?, sha256 = ?, byte_count = ?, "
                        + "published_at = ? WHERE path = ?"
                : "INSERT INTO repository_artifact (group_id, artifact_id, version, sha256, byte_count, published_at, path) "
                        + "VALUES (?, ?, ?, ?, ?, ?, ?)";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, a.groupId());
            ps.setString(2, a.artifactId());
            ps.setString(3, a.version());
            ps.setString(4, a.sha256());
            ps.setLong(5, a.size());
            ps.setObject(6, odt(a.publishedAt()));
            ps.setString(7, a.path());
            ps.executeUpdate();
        }
    }

    /** Inserts a reference value unless the same (component, version, SHA-256) is recorded already. */
    boolean addReferenceValue(ReferenceValue v) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT 1 FROM reference_value WHERE component = ? AND version = ? AND sha256 = ?")) {
            ps.setString(1, v.component());
            ps.setString(2, v.version());
            ps.setString(3, v.sha256());
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    return false;
                }
            }
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO reference_value "
                + "(component, version, sha256, release_name, published_at) VALUES (?, ?, ?, ?, ?)")) {
            ps.setString(1, v.component());
            ps.setString(2, v.version());
            ps.setString(3, v.sha256());
            ps.setString(4, v.release());
            ps.setObject(5, odt(v.publishedAt()));
            ps.executeUpdate();
        }
        return true;
    }

    void putRelease(Release r) throws SQLException {
        try (PreparedStatement del = c.prepareStatement(
                "DELETE FROM repository_release WHERE feature = ? AND version = ?")) {
            del.setString(1, r.feature());
            del.setString(2, r.version());
            del.executeUpdate();
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO repository_release "
                + "(feature, version, repository, published_at, actor) VALUES (?, ?, ?, ?, ?)")) {
            ps.setString(1, r.feature());
            ps.setString(2, r.version());
            ps.setString(3, r.repository());
            ps.setObject(4, odt(r.publishedAt()));
            ps.setString(5, r.actor());
            ps.executeUpdate();
        }
    }

    Optional<Release> release(String feature, String version) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT feature, version, repository, published_at, actor "
                + "FROM repository_release WHERE feature = ? AND version = ?")) {
            ps.setString(1, feature);
            ps.setString(2, version);
            return readReleases(ps).stream().findFirst();
        }
    }

    List<Release> releases() throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT feature, version, repository, published_at, actor "
                + "FROM repository_release ORDER BY feature, published_at, version")) {
            return readReleases(ps);
        }
    }

    private static List<Release> readReleases(PreparedStatement ps) throws SQLException {
        List<Release> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(new Release(rs.getString(1), rs.getString(2), rs.getString(3), instant(rs, 4), rs.getString(5)));
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
