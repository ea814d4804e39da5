package io.ferry.itests;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A throwaway PostgreSQL cluster for the integration tests, started in the test JVM (not in the
 * container) with Debian's {@code initdb} and {@code pg_ctl} (as user {@code postgres} when run as
 * root) on a free loopback port, trust authentication, stopped and removed at JVM exit. With
 * {@code ferry.test.pg.url} / {@code FERRY_TEST_PG_URL} set (a JDBC URL of a superuser connection
 * to a database) that server is used instead. Without either the test fails: it is not skipped.
 */
final class TestPostgres {

    private static String url;

    private TestPostgres() {
    }

    /** The JDBC URL (user included) of an empty database of its own. */
    static synchronized String newDatabase(String name) {
        try {
            if (url == null) {
                String given = System.getProperty("ferry.test.pg.url", System.getenv("FERRY_TEST_PG_URL"));
                url = given != null && !given.isBlank() ? given : start();
            }
            String host = url.replaceFirst("jdbc:postgresql://([^:/]+):?([0-9]*)/.*", "$1");
            String port = url.replaceFirst("jdbc:postgresql://[^:/]+:?([0-9]*)/.*", "$1");
            String user = url.replaceFirst(".*[?&]user=([^&]+).*", "$1");
            String db = name + "_" + ProcessHandle.current().pid();
            psql(host, port, user, "DROP DATABASE IF EXISTS " + db);
            psql(host, port, user, "CREATE DATABASE " + db);
            return "jdbc:postgresql://" + host + ":" + (port.isEmpty() ? "5432" : port) + "/" + db + "?user=" + user;
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException("PostgreSQL is needed for this test and could not be started ("
                    + e.getMessage() + "): install Debian's postgresql package, or set ferry.test.pg.url", e);
        }
    }

    private static String start() throws IOException, InterruptedException {
        Path bin = bin();
        boolean root = "root".equals(System.getProperty("user.name"));
        Path dir = Files.createTempDirectory("ferry-itest-pg-");
        if (root) {
            Files.setOwner(dir, dir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("postgres"));
        }
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path data = dir.resolve("data");
        run(root, bin.resolve("initdb").toString(), "-D", data.toString(), "-U", "ferry", "--auth=trust", "-E", "UTF8",
                "--no-sync");
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

    private static void psql(String host, String port, String user, String sql) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(bin().resolve("psql").toString(), "-h", host, "-U", user, "-d",
                "postgres", "-v", "ON_ERROR_STOP=1", "-c", sql));
        if (!port.isEmpty()) {
            cmd.addAll(List.of("-p", port));
        }
        run(false, cmd.toArray(new String[0]));
    }

    private static Path bin() throws IOException {
        try (Stream<Path> versions = Files.list(Path.of("/usr/lib/postgresql"))) {
            for (Path v : versions.sorted(Comparator.reverseOrder()).toList()) {
                if (Files.isExecutable(v.resolve("bin/initdb"))) {
                    return v.resolve("bin");
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
