package io.ferry.itcenter.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.reflect.Proxy;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLConnection;
import java.net.URLStreamHandler;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.Bundle;

import io.ferry.api.itcenter.ItCenterException;

/**
 * The schema as the IT center migrates it in Karaf: from the bundle's own entries, at every start of the
 * same database file (a restart), including a migration shipped by an updated bundle.
 */
class StoreMigrationTest {

    @TempDir
    Path dir;

    /** The bundle's content: what the jar ships under db/migration. */
    private Path bundleRoot;
    private String url;

    @BeforeEach
    void shippedMigrations() throws IOException, URISyntaxException {
        bundleRoot = dir.resolve("bundle");
        Path shipped = Path.of(Store.class.getClassLoader().getResource("db/migration").toURI());
        try (Stream<Path> files = Files.walk(shipped)) {
            for (Path p : files.toList()) {
                Files.createDirectories(bundleRoot.resolve("db/migration").resolve(shipped.relativize(p).toString())
                        .getParent());
                if (Files.isRegularFile(p)) {
                    Files.copy(p, bundleRoot.resolve("db/migration").resolve(shipped.relativize(p).toString()));
                }
            }
        }
        url = "jdbc:h2:file:" + dir.resolve("registry").toAbsolutePath();
    }

    private Store open() {
        return Store.open(url, "", "", 2, bundle(bundleRoot));
    }

    /** (version, success) of every applied migration (not the schema's creation), in order; plain JDBC. */
    private List<String> history() throws SQLException {
        try (Connection c = DriverManager.getConnection(url);
                ResultSet rs = c.createStatement().executeQuery(
                        "SELECT \"version\", \"success\" FROM \"flyway_schema_history\""
                                + " WHERE \"version\" IS NOT NULL ORDER BY \"installed_rank\"")) {
            List<String> rows = new ArrayList<>();
            while (rs.next()) {
                rows.add(rs.getString(1) + ":" + rs.getBoolean(2));
            }
            return rows;
        }
    }

    private boolean tableExists(String name) throws SQLException {
        try (Connection c = DriverManager.getConnection(url);
                ResultSet rs = c.getMetaData().getTables(null, null, name.toUpperCase(Locale.ROOT), null)) {
            return rs.next();
        }
    }

    private int shippedCount() throws IOException {
        try (Stream<Path> files = Files.walk(bundleRoot)) {
            return (int) files.filter(p -> p.toString().endsWith(".sql")
                    && (p.getParent().endsWith("common") || p.getParent().endsWith("h2"))).count();
        }
    }

    @Test
    void aRestartAppliesTheMigrationAnUpdatedBundleShips() throws IOException, SQLException {
        open().close();
        List<String> first = history();
        assertThat(first).hasSize(shippedCount()).allMatch(r -> r.endsWith(":true"));
        assertThat(tableExists("restart_probe")).isFalse();

        // the updated bundle ships one more migration; the IT center restarts on the same database file
        Files.writeString(bundleRoot.resolve("db/migration/common/V1000__restart_probe.sql"),
                "CREATE TABLE restart_probe (id INT PRIMARY KEY);\n", StandardCharsets.UTF_8);
        open().close();

        assertThat(history()).startsWith(first.toArray(String[]::new)).endsWith("1000:true")
                .hasSize(first.size() + 1);
        assertThat(tableExists("restart_probe")).isTrue();

        // and a third start has nothing to do
        open().close();
        assertThat(history()).hasSize(first.size() + 1);
    }

    @Test
    void aDatabaseMigratedByClassPathScanningValidatesFromTheBundleAndAChangedMigrationIsRefused()
            throws IOException, SQLException {
        Store.open(url, "", "").close(); // as before the fix: Flyway's class path scanning
        List<String> scanned = history();

        open().close(); // same paths and checksums from the bundle's entries: valid, nothing to apply
        assertThat(history()).isEqualTo(scanned);

        // validation runs: a shipped migration that differs from the applied one stops the start
        Path v1 = bundleRoot.resolve("db/migration/common/V1__registry_and_audit.sql");
        Files.writeString(v1, Files.readString(v1) + "\n-- changed after it was applied\n");
        assertThatThrownBy(this::open).isInstanceOf(ItCenterException.class)
                .hasMessageContaining("checksum mismatch");
    }

    @Test
    void noMigrationFoundIsRefusedNotTakenForAnUpToDateSchema() throws IOException, SQLException {
        open().close();
        List<String> applied = history();

        // what Flyway's own OSGi scanning saw at a Karaf restart: nothing
        Path empty = Files.createDirectories(dir.resolve("empty"));
        assertThatThrownBy(() -> Store.open(url, "", "", 2, bundle(empty)))
                .isInstanceOf(ItCenterException.class).hasMessageContaining("no migration found");
        assertThat(history()).isEqualTo(applied);

        // nor on a new database
        url = "jdbc:h2:file:" + dir.resolve("other").toAbsolutePath();
        assertThatThrownBy(() -> Store.open(url, "", "", 2, bundle(empty)))
                .isInstanceOf(ItCenterException.class).hasMessageContaining("no migration found");
    }

    @Test
    void onlyFilesUnderTheLocationsAreMigrations() {
        BundleMigrations migrations = new BundleMigrations(bundle(bundleRoot), List.of("db/migration/common"));
        assertThat(migrations.getResources("V", new String[] {".sql"}))
                .extracting(r -> r.getRelativePath())
                .contains("V1__registry_and_audit.sql", "V10__attested_pcrs.sql")
                .noneMatch(p -> p.contains("/") || p.contains("append_only"));
        assertThat(migrations.getResource("V1__registry_and_audit.sql").getAbsolutePath())
                .isEqualTo("db/migration/common/V1__registry_and_audit.sql");
        assertThat(migrations.getResources("R", new String[] {".sql"})).isEmpty();
    }

    /**
     * A bundle whose entries are the files under root, as Felix's {@code findEntries} answers: {@code bundle:}
     * URLs whose path is the entry's, folders with a trailing slash.
     */
    private static Bundle bundle(Path root) {
        URLStreamHandler handler = new URLStreamHandler() {
            @Override
            protected URLConnection openConnection(URL u) throws IOException {
                return root.resolve(u.getPath().substring(1)).toUri().toURL().openConnection();
            }
        };
        return (Bundle) Proxy.newProxyInstance(StoreMigrationTest.class.getClassLoader(), new Class<?>[] {Bundle.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "getSymbolicName" -> "io.ferry.itcenter";
                    case "findEntries" -> {
                        Path folder = root.resolve((String) args[0]);
                        if (!Files.isDirectory(folder)) {
                            yield null;
                        }
                        List<URL> urls = new ArrayList<>();
                        try (Stream<Path> files = Files.walk(folder)) {
                            for (Path p : files.skip(1).sorted().toList()) {
                                String entry = "/" + root.relativize(p).toString().replace('\\', '/')
                                        + (Files.isDirectory(p) ? "/" : "");
                                urls.add(new URL("bundle", "42.0", 1, entry, handler));
                            }
                        }
                        yield urls.isEmpty() ? null : Collections.enumeration(urls);
                    }
                    case "toString" -> "test bundle " + root;
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }
}
