package io.ferry.itcenter.internal;

import java.sql.Connection;
import java.sql.SQLException;

import javax.sql.DataSource;

import org.flywaydb.core.Flyway;
import org.h2.jdbcx.JdbcConnectionPool;
import org.postgresql.ds.PGSimpleDataSource;

import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.itcenter.ItCenterException.Reason;

/**
 * The IT center's database: H2 (embedded, a file) or PostgreSQL, chosen by the JDBC URL, with the
 * schema brought up to date by Flyway when opened. Work runs in {@link #transaction}s.
 *
 * <p>The IT center registers it as a service (visible only inside this bundle, whose packages it
 * does not export), so that each area of the IT center (enrolment, attestation, leases, the
 * repository, ...) is a component of its own over the same database: an area keeps its SQL in a
 * class of its own on {@link Tables#connection()} and its schema in its own Flyway migration, and
 * writes its audit events with {@link Tables#appendAudit} in the same transaction as its change.
 */
public final class Store implements AutoCloseable {

    /** One unit of work on a connection in a transaction. */
    @FunctionalInterface
    public interface Work<T> {
        T run(Tables tables) throws SQLException;
    }

    private final String url;
    private final DataSource dataSource;
    private final JdbcConnectionPool h2Pool;

    private Store(String url, DataSource dataSource, JdbcConnectionPool h2Pool) {
        this.url = url;
        this.dataSource = dataSource;
        this.h2Pool = h2Pool;
    }

    /** Opens the database at a JDBC URL ({@code jdbc:h2:...} or {@code jdbc:postgresql:...}) and migrates it. */
    static Store open(String url, String user, String password) {
        Store store;
        if (url.startsWith("jdbc:h2:")) {
            JdbcConnectionPool pool = JdbcConnectionPool.create(url, user, password);
            pool.setMaxConnections(16);
            store = new Store(url, pool, pool);
        } else if (url.startsWith("jdbc:postgresql:")) {
            PGSimpleDataSource ds = new PGSimpleDataSource();
            ds.setURL(url);
            if (!user.isEmpty()) {
                ds.setUser(user);
            }
            if (!password.isEmpty()) {
                ds.setPassword(password);
            }
            store = new Store(url, ds, null);
        } else {
            throw new ItCenterException(Reason.INVALID, "unsupported database URL (H2 or PostgreSQL): " + url);
        }
        try {
            store.migrate();
        } catch (RuntimeException e) {
            store.close();
            throw new ItCenterException(Reason.UNAVAILABLE,
                    "cannot open or migrate the database at " + url + ": " + e.getMessage(), e);
        }
        return store;
    }

    private void migrate() {
        Flyway.configure(Store.class.getClassLoader())
                .dataSource(dataSource)
                .locations("classpath:db/migration/common", "classpath:db/migration/" + vendor())
                .table("flyway_schema_history")
                .failOnMissingLocations(false)
                .load()
                .migrate();
    }

    /** The folder of back-end specific migrations. */
    private String vendor() {
        return h2Pool != null ? "h2" : "postgresql";
    }

    String url() {
        return url;
    }

    /** Runs work in one transaction: committed when it returns, rolled back when it throws. */
    public <T> T transaction(Work<T> work) {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                T result = work.run(new Tables(c));
                c.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new ItCenterException(Reason.UNAVAILABLE, "database error: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        if (h2Pool != null) {
            h2Pool.dispose();
        }
    }
}
