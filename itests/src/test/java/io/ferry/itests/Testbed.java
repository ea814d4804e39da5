package io.ferry.itests;

import java.io.IOException;
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
}
