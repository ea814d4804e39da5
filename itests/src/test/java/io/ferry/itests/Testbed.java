package io.ferry.itests;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * What testbed/hosts-up wrote about the test hosts (work/hosts.env): their libvirt URIs, TPM
 * ports and the guest's files. Read in the test JVM, before the container starts.
 */
public final class Testbed {

    private final Path dir;
    private final Map<String, String> env;

    private Testbed(Path dir, Map<String, String> env) {
        this.dir = dir;
        this.env = env;
    }

    public static Testbed load() {
        Path dir = Path.of(System.getProperty("ferry.testbed.dir", "../testbed")).toAbsolutePath().normalize();
        String work = System.getenv("FERRY_TESTBED_WORK");
        Path file = (work != null ? Path.of(work) : dir.resolve("work")).resolve("hosts.env");
        try {
            return new Testbed(dir, parse(Files.readString(file, StandardCharsets.UTF_8)));
        } catch (IOException e) {
            throw new IllegalStateException("no testbed: " + file + " is missing; run testbed/hosts-up first", e);
        }
    }

    static Map<String, String> parse(String text) {
        Map<String, String> values = new HashMap<>();
        for (String line : text.split("\n")) {
            line = line.strip();
            int eq = line.indexOf('=');
            if (line.isEmpty() || line.startsWith("#") || eq < 0) {
                continue;
            }
            String value = line.substring(eq + 1).strip();
            if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
                value = value.substring(1, value.length() - 1);
            }
            values.put(line.substring(0, eq).strip(), value);
        }
        return values;
    }

    public Path dir() {
        return dir;
    }

    public String get(String key) {
        String v = env.get(key);
        if (v == null) {
            throw new IllegalStateException("hosts.env has no " + key + "; is that host up?");
        }
        return v;
    }

    public String hostUri(String host) {
        return get("FERRY_HOST_" + host.toUpperCase(Locale.ROOT) + "_URI");
    }

    public Path work() {
        return Path.of(get("FERRY_TESTBED_WORK"));
    }

    /**
     * The test guest's domain XML, from testbed/guest-xml. Static, with the testbed folder given:
     * tests inside the Karaf container know it only from a system property.
     */
    public static String guestXml(Path testbedDir, String name, Path disk, Path serialLog) {
        try {
            Process p = new ProcessBuilder(testbedDir.resolve("guest-xml").toString(), name, disk.toString(),
                    serialLog.toString()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            String xml = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int exit = p.waitFor();
            if (exit != 0) {
                throw new IllegalStateException("testbed/guest-xml exited with " + exit);
            }
            return xml;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** The test guest's domain XML, from this testbed's guest-xml. */
    public String guestXml(String name, Path disk, Path serialLog) {
        return guestXml(dir, name, disk, serialLog);
    }
}
