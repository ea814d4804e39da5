package io.ferry.itcenter.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;

import org.junit.jupiter.api.Test;

import io.ferry.api.itcenter.AuditEntry;
import io.ferry.api.itcenter.AuditQuery;

/**
 * The contract on PostgreSQL (a throwaway cluster, or the server named by ferry.test.pg.url), and
 * the triggers that make the append-only tables refuse UPDATE, DELETE and TRUNCATE to anyone.
 */
class PostgresItCenterTest extends ItCenterContractTest {

    private String url;

    @Override
    protected String newDatabaseUrl() throws Exception {
        url = PostgresServer.get().newDatabase();
        return url;
    }

    @Test
    void theAuditLogRefusesUpdateDeleteAndTruncate() throws Exception {
        itc.audit(new AuditEntry("test.event", null, null, "test", "original"));
        itc.revoke(itc.registerAgent(new io.ferry.api.itcenter.AgentRegistration("laptop", "a", "g",
                Pki.csr(Pki.keyPair())), "t").agent().id(), "test", "t");
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            for (String sql : new String[] {"UPDATE audit_event SET detail = 'forged'", "DELETE FROM audit_event",
                    "TRUNCATE audit_event", "DELETE FROM revocation", "UPDATE revocation SET reason = 'x'",
                    "DELETE FROM agent_revocation", "TRUNCATE revocation CASCADE"}) {
                assertThatThrownBy(() -> s.executeUpdate(sql)).as(sql).isInstanceOf(SQLException.class)
                        .hasMessageContaining("append-only");
            }
        }
        assertThat(itc.audit(AuditQuery.all())).extracting(e -> e.detail()).contains("original")
                .doesNotContain("forged");
    }
}
