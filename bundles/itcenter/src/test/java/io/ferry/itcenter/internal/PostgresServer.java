package io.ferry.itcenter.internal;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A PostgreSQL server for tests. With the system property (or environment variable)
 * {@code ferry.test.pg.url} / {@code FERRY_TEST_PG_URL} — a JDBC URL of a superuser connection,
 * e.g. {@code jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres} — it uses that server.
 * Otherwise it makes a throwaway cluster with {@code initdb} and {@code pg_ctl} in a temporary
 * folder on a free loopback port (as the {@code postgres} user when run as root, since initdb
 * refuses root), and removes it at JVM exit. If neither works, {@link #get()} throws: tests that
 * need PostgreSQL fail, they are not skipped.
 *
 * <p>Public and in this module's test jar: the integration tests (itests, PostgresItCenterIT) use the same
 * server for the distribution's IT center.
 */
public final class PostgresServer {

    private static PostgresServer instance;
    private static final AtomicInteger DATABASES = new AtomicInteger();

    private final String adminUrl;

    private PostgresServer(String adminUrl) {
        this.adminUrl = adminUrl;
    }

    public static synchronized PostgresServer get() {
        if (instance == null) {
            String url = System.getProperty("ferry.test.pg.url");
            if (url == null || url.isBlank()) {
                url = System.getenv("FERRY_TEST_PG_URL");
            }
            try {
                instance = new PostgresServer(url != null && !url.isBlank() ? url : startCluster());
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException("PostgreSQL is needed for these tests and could not be started ("
                        + e.getMessage() + "): install Debian's postgresql package, or set ferry.test.pg.url", e);
            }
        }
        return instance;
    }

    /** A new, empty database; returns its JDBC URL (credentials included). */
    public String newDatabase() throws SQLException {
        String name = "ferry_test_" + ProcessHandle.current().pid() + "_" + DATABASES.incrementAndGet();
        try (Connection c = DriverManager.getConnection(adminUrl); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + name);
            s.execute("CREATE DATABASE " + name);
        }
        return adminUrl.replaceFirst("(jdbc:postgresql://[^/]+/)[^?]*", "$1" + name);
    }

    private static String startCluster() throws IOException, InterruptedException {
        Path bin = findBin();
        boolean root = "root".equals(System.getProperty("user.name"));
        Path dir = Files.createTempDirectory("ferry-pg-");
        Path data = dir.resolve("data");
        if (root) {
            UserPrincipal pg = dir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("postgres");
            Files.setOwner(dir, pg);
        }
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        run(root, bin.resolve("initdb").toString(), "-D", data.toString(), "-U", "ferry", "--auth=trust",
                "-E", "UTF8", "--no-sync");
        run(root, bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-w", "-t", "60", "-l",
                dir.resolve("log").toString(), "-o", "-p " + port + " -k " + dir + " -h 127.0.0.1 -F", "start");
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                run(root, bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-m", "immediate", "-w", "stop");
            } catch (IOException | InterruptedException e) {
                System.err.println("stopping the test PostgreSQL: " + e.getMessage());
            }
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException e) {
                System.err.println("removing " + dir + ": " + e.getMessage());
            }
        }));
        return "jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=ferry";
    }

    private static Path findBin() throws IOException {
        Path lib = Path.of("/usr/lib/postgresql");
        if (Files.isDirectory(lib)) {
            try (Stream<Path> versions = Files.list(lib)) {
                for (Path v : versions.sorted(Comparator.reverseOrder()).toList()) {
                    if (Files.isExecutable(v.resolve("bin/initdb"))) {
                        return v.resolve("bin");
                    }
                }
            }
        }
        throw new IOException("no /usr/lib/postgresql/*/bin/initdb");
    }

    private static void run(boolean asPostgres, String... command) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        if (asPostgres) {
            cmd.addAll(List.of("runuser", "-u", "postgres", "--"));
        }
        cmd.addAll(List.of(command));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed:\n" + out);
        }
    }
}
