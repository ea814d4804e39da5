package io.ferry.itcenter.internal;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.List;

import javax.sql.DataSource;

import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.ClassProvider;
import org.flywaydb.core.api.configuration.FluentConfiguration;
import org.flywaydb.core.api.migration.JavaMigration;
import org.h2.jdbcx.JdbcConnectionPool;
import org.osgi.framework.Bundle;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import org.postgresql.ds.PGSimpleDataSource;

import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.itcenter.ItCenterException.Reason;

/**
 * The IT center's database: H2 (embedded, a file) or PostgreSQL, chosen by the JDBC URL, with the
 * schema brought up to date by Flyway when opened. Work runs in {@link #transaction}s.
 *
 * <p>{@link Database} registers it as a service (visible only inside this bundle, whose packages it
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
    /** HikariCP's pool of PostgreSQL connections, or null. */
    private final HikariDataSource pgPool;

    /** Connections pooled unless configured otherwise (db.pool.size). */
    static final int DEFAULT_POOL_SIZE = 16;

    private Store(String url, DataSource dataSource, JdbcConnectionPool h2Pool) {
        this(url, dataSource, h2Pool, null);
    }

    private Store(String url, DataSource dataSource, JdbcConnectionPool h2Pool, HikariDataSource pgPool) {
        this.url = url;
        this.dataSource = dataSource;
        this.h2Pool = h2Pool;
        this.pgPool = pgPool;
    }

    /** Opens the database at a JDBC URL ({@code jdbc:h2:...} or {@code jdbc:postgresql:...}) and migrates it. */
    static Store open(String url, String user, String password) {
        return open(url, user, password, DEFAULT_POOL_SIZE);
    }

    /**
     * Opens the database with a pool of at most {@code poolSize} connections: H2's own pool, HikariCP for
     * PostgreSQL; 0 for a new connection per transaction (to measure what the pool saves).
     */
    static Store open(String url, String user, String password, int poolSize) {
        return open(url, user, password, poolSize, null);
    }

    /**
     * Opens the database, migrated with the migrations among {@code bundle}'s own entries (in OSGi: see
     * {@link BundleMigrations} for why not Flyway's scanning); with Flyway's class path scanning when null.
     */
    static Store open(String url, String user, String password, int poolSize, Bundle bundle) {
        Store store;
        if (url.startsWith("jdbc:h2:")) {
            if (poolSize > 0) {
                JdbcConnectionPool pool = JdbcConnectionPool.create(url, user, password);
                pool.setMaxConnections(poolSize);
                store = new Store(url, pool, pool);
            } else {
                org.h2.jdbcx.JdbcDataSource ds = new org.h2.jdbcx.JdbcDataSource();
                ds.setURL(url);
                ds.setUser(user);
                ds.setPassword(password);
                store = new Store(url, ds, null);
            }
        } else if (url.startsWith("jdbc:postgresql:")) {
            PGSimpleDataSource ds = new PGSimpleDataSource();
            ds.setURL(url);
            if (!user.isEmpty()) {
                ds.setUser(user);
            }
            if (!password.isEmpty()) {
                ds.setPassword(password);
            }
            if (poolSize > 0) {
                HikariConfig config = new HikariConfig();
                config.setDataSource(ds);
                config.setPoolName("ferry-itcenter");
                config.setMaximumPoolSize(poolSize);
                config.setMinimumIdle(Math.min(2, poolSize));
                config.setAutoCommit(false);
                // an unreachable server is reported at once, as without the pool
                config.setInitializationFailTimeout(1);
                config.setConnectionTimeout(10_000);
                HikariDataSource pool;
                try {
                    pool = new HikariDataSource(config);
                } catch (RuntimeException e) {
                    throw new ItCenterException(Reason.UNAVAILABLE,
                            "cannot open the database at " + url + ": " + e.getMessage(), e);
                }
                store = new Store(url, pool, null, pool);
            } else {
                store = new Store(url, ds, null);
            }
        } else {
            throw new ItCenterException(Reason.INVALID, "unsupported database URL (H2 or PostgreSQL): " + url);
        }
        try {
            store.migrate(bundle);
        } catch (RuntimeException e) {
            store.close();
            throw new ItCenterException(Reason.UNAVAILABLE,
                    "cannot open or migrate the database at " + url + ": " + e.getMessage(), e);
        }
        return store;
    }

    private void migrate(Bundle bundle) {
        List<String> folders = List.of("db/migration/common", "db/migration/" + vendor());
        FluentConfiguration configuration = Flyway.configure(Store.class.getClassLoader())
                .dataSource(dataSource)
                .locations(folders.stream().map(f -> "classpath:" + f).toArray(String[]::new))
                .table("flyway_schema_history")
                .failOnMissingLocations(false);
        if (bundle != null) {
            ClassProvider<JavaMigration> noJavaMigrations = List::of;
            configuration.resourceProvider(new BundleMigrations(bundle, folders))
                    .javaMigrationClassProvider(noJavaMigrations);
        }
        Flyway flyway = configuration.load();
        // Flyway counts applied migrations it cannot see as "future" and ignores them: with none found,
        // nothing would be validated or applied. Refuse to start instead.
        if (Arrays.stream(flyway.info().all()).noneMatch(m -> m.getState().isResolved())) {
            throw new IllegalStateException("no migration found in " + folders
                    + (bundle == null ? " on the class path" : " of bundle " + bundle.getSymbolicName()));
        }
        flyway.migrate();
    }

    /** The folder of back-end specific migrations. */
    private String vendor() {
        return url.startsWith("jdbc:h2:") ? "h2" : "postgresql";
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
        if (pgPool != null) {
            pgPool.close();
        }
    }
}
