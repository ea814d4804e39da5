package io.ferry.itcenter.lease;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Optional;

/**
 * The statements on {@code vm_lease}, on one transaction's connection. Every change is a
 * compare-and-set: the row is read {@code FOR UPDATE} and written only under the epoch it was
 * read with, so two agents can never both be granted a lease.
 */
final class LeaseTable {

    private final Connection c;

    LeaseTable(Connection c) {
        this.c = c;
    }

    Optional<Lease> lockAndRead(String vm, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT holder, epoch, expires_at FROM vm_lease WHERE vm = ? FOR UPDATE")) {
            ps.setString(1, vm);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                Instant expires = rs.getObject(3, OffsetDateTime.class).toInstant();
                return Optional.of(new Lease(vm, rs.getString(1), rs.getLong(2), expires, !expires.isAfter(now)));
            }
        }
    }

    /** Inserts epoch 1; a concurrent insert of the same VM fails on the primary key. */
    void insert(String vm, String holder, Instant expires, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO vm_lease (vm, holder, epoch, expires_at, updated_at) VALUES (?, ?, 1, ?, ?)")) {
            ps.setString(1, vm);
            ps.setString(2, holder);
            ps.setObject(3, odt(expires));
            ps.setObject(4, odt(now));
            ps.executeUpdate();
        }
    }

    /** Sets holder, epoch and expiry where the row still has {@code expectedEpoch}; returns whether it did. */
    boolean update(String vm, long expectedEpoch, String holder, long epoch, Instant expires, Instant now)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE vm_lease SET holder = ?, epoch = ?, expires_at = ?, "
                + "updated_at = ? WHERE vm = ? AND epoch = ?")) {
            ps.setString(1, holder);
            ps.setLong(2, epoch);
            ps.setObject(3, odt(expires));
            ps.setObject(4, odt(now));
            ps.setString(5, vm);
            ps.setLong(6, expectedEpoch);
            return ps.executeUpdate() == 1;
        }
    }

    private static OffsetDateTime odt(Instant i) {
        return i.atOffset(ZoneOffset.UTC);
    }
}
