package io.ferry.itests;

import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.List;

import org.junit.Test;

import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;

import io.ferry.api.itcenter.AuditEntry;
import io.ferry.api.itcenter.AuditQuery;
import io.ferry.api.itcenter.ItCenter;
import io.ferry.itcenter.internal.PostgresServer;

/**
 * {@link ItCenterIT} again, with the IT center's registry and audit log on PostgreSQL (a throwaway
 * cluster started by the test JVM, the IT center's own test server {@link PostgresServer}) through its
 * HikariCP pool.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class PostgresItCenterIT extends ItCenterIT {

    @Override
    protected void ferryOptions(List<Option> options) {
        super.ferryOptions(options);
        String url;
        try {
            url = PostgresServer.get().newDatabase();
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create the IT center's PostgreSQL database: " + e.getMessage(), e);
        }
        options.add(editConfigurationFilePut("etc/io.ferry.itcenter.cfg", "db.url", url));
        options.add(editConfigurationFilePut("etc/io.ferry.itcenter.cfg", "db.pool.size", "8"));
    }

    @Test
    public void theRegistryIsInPostgresqlNotInTheEmbeddedFile() throws Exception {
        installAndAssertFeature("ferry-itcenter");
        ItCenter itc = getOsgiService(ItCenter.class, 60_000);
        itc.audit(new AuditEntry("test.postgres", null, null, "itest", "written to PostgreSQL"));
        assertEquals(1, itc.audit(new AuditQuery(null, null, "test.postgres", null, 10)).size());
        Path h2 = Path.of(System.getProperty("karaf.data"), "itcenter");
        try (java.util.stream.Stream<Path> files = Files.exists(h2) ? Files.list(h2) : java.util.stream.Stream.empty()) {
            assertFalse("no H2 file", files.anyMatch(f -> f.getFileName().toString().startsWith("registry")));
        }
    }
}
