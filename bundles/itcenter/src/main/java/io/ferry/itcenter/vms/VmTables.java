package io.ferry.itcenter.vms;

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

import io.ferry.api.policy.PublishedVm;

/**
 * The statements of the VM registry (schema V8__vms.sql), on the transaction's connection.
 * {@code vm_policy} keeps every policy ever published (append-only: INSERT and SELECT only);
 * {@code vm_image} is each VM's current row.
 */
final class VmTables {

    private static final String SELECT = "SELECT i.name, i.uuid, i.image_digest, i.owner, i.policy_version, "
            + "p.key_id, p.published_at, p.published_by, p.jws FROM vm_image i "
            + "JOIN vm_policy p ON p.uuid = i.uuid AND p.version = i.policy_version";

    private final Connection c;

    VmTables(Connection c) {
        this.c = c;
    }

    List<PublishedVm> all() throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(SELECT + " ORDER BY i.name")) {
            return read(ps);
        }
    }

    Optional<PublishedVm> byUuid(String uuid, boolean forUpdate) throws SQLException {
        if (forUpdate) {
            try (PreparedStatement lock = c.prepareStatement("SELECT uuid FROM vm_image WHERE uuid = ? FOR UPDATE")) {
                lock.setString(1, uuid);
                lock.executeQuery().close();
            }
        }
        try (PreparedStatement ps = c.prepareStatement(SELECT + " WHERE i.uuid = ?")) {
            ps.setString(1, uuid);
            return read(ps).stream().findFirst();
        }
    }

    Optional<PublishedVm> byName(String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(SELECT + " WHERE i.name = ?")) {
            ps.setString(1, name);
            return read(ps).stream().findFirst();
        }
    }

    void insertPolicy(String uuid, long version, String keyId, String jws, Instant at, String actor)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO vm_policy "
                + "(uuid, version, key_id, jws, published_at, published_by) VALUES (?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, uuid);
            ps.setLong(2, version);
            ps.setString(3, keyId);
            ps.setString(4, jws);
            ps.setObject(5, at.atOffset(ZoneOffset.UTC));
            ps.setString(6, actor);
            ps.executeUpdate();
        }
    }

    void insertImage(PublishedVm vm) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO vm_image "
                + "(uuid, name, image_digest, owner, policy_version) VALUES (?, ?, ?, ?, ?)")) {
            ps.setString(1, vm.uuid());
            ps.setString(2, vm.name());
            ps.setString(3, vm.imageDigest());
            ps.setString(4, vm.owner());
            ps.setLong(5, vm.version());
            ps.executeUpdate();
        }
    }

    void updateImage(PublishedVm vm) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE vm_image SET name = ?, image_digest = ?, owner = ?, "
                + "policy_version = ? WHERE uuid = ?")) {
            ps.setString(1, vm.name());
            ps.setString(2, vm.imageDigest());
            ps.setString(3, vm.owner());
            ps.setLong(4, vm.version());
            ps.setString(5, vm.uuid());
            ps.executeUpdate();
        }
    }

    /** The number of policies ever published for a VM (its history). */
    int history(String uuid) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM vm_policy WHERE uuid = ?")) {
            ps.setString(1, uuid);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    private static List<PublishedVm> read(PreparedStatement ps) throws SQLException {
        List<PublishedVm> vms = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                OffsetDateTime at = rs.getObject(7, OffsetDateTime.class);
                vms.add(new PublishedVm(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                        rs.getLong(5), rs.getString(6), at == null ? null : at.toInstant(), rs.getString(8),
                        rs.getString(9)));
            }
        }
        return vms;
    }
}
