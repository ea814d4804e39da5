package io.ferry.itcenter.vms;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;

import org.junit.jupiter.api.Test;

import io.ferry.itcenter.internal.ItCenterTestAccess;

/** The VM registry on PostgreSQL (a throwaway cluster, or the server named by ferry.test.pg.url). */
class PostgresVmRegistryTest extends VmRegistryContractTest {

    private String url;

    @Override
    protected String newDatabaseUrl() throws Exception {
        url = ItCenterTestAccess.newPostgresDatabase();
        return url;
    }

    @Test
    void schemaIsAtV8WithBothTables() throws Exception {
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM flyway_schema_history WHERE version = '8' AND success")) {
            rs.next();
            assertThat(rs.getInt(1)).isEqualTo(1);
        }
        registry.publish("alice-desktop", policy("alice-desktop", UUID, 1, DIGEST), null, "a");
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT i.name, p.version, length(p.jws) FROM vm_image i JOIN vm_policy p "
                        + "ON p.uuid = i.uuid")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("alice-desktop");
            assertThat(rs.getLong(2)).isEqualTo(1);
            assertThat(rs.getInt(3)).isGreaterThan(100);
        }
    }
}
