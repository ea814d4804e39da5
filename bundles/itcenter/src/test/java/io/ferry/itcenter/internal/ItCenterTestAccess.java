package io.ferry.itcenter.internal;

import java.time.Clock;
import java.time.Duration;

import io.ferry.api.itcenter.ItCenter;

/** For the tests of IT-center areas in other packages (e.g. io.ferry.itcenter.vms): a store and an IT center on it. */
public final class ItCenterTestAccess {

    private ItCenterTestAccess() {
    }

    /** Opens (and migrates) the database at a JDBC URL. */
    public static Store open(String url) {
        return Store.open(url, "", "");
    }

    /** A new, empty PostgreSQL database (see PostgresServer); its JDBC URL. */
    public static String newPostgresDatabase() throws java.sql.SQLException {
        return PostgresServer.get().newDatabase();
    }

    /** The IT center over a store, with a CA kept in memory. */
    public static ItCenter itCenter(Store store, Clock clock) {
        return new ItCenterService(store, CertificateAuthority.create("test root", clock), clock, Duration.ofHours(24),
                Duration.ofHours(1));
    }
}
