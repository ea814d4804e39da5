package io.ferry.itests;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The test guest's serial console log. Its workload prints "ferry-boot <id>" once per boot and
 * then "ferry-counter <n>" every half second, and "ferry-disk-error <n>" if the disk did not give
 * back what it wrote.
 */
public final class SerialLog {

    private static final Pattern COUNTER = Pattern.compile("ferry-counter (\\d+)");

    private final Path file;

    public SerialLog(Path file) {
        this.file = file;
    }

    public String text() {
        try {
            return Files.exists(file) ? Files.readString(file, StandardCharsets.ISO_8859_1) : "";
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public List<Long> counters() {
        List<Long> values = new ArrayList<>();
        Matcher m = COUNTER.matcher(text());
        while (m.find()) {
            values.add(Long.parseLong(m.group(1)));
        }
        return values;
    }

    public long lastCounter() {
        List<Long> c = counters();
        return c.isEmpty() ? 0 : c.get(c.size() - 1);
    }

    public int boots() {
        return count("ferry-boot ");
    }

    public int diskErrors() {
        return count("ferry-disk-error");
    }

    /** Waits until the guest has printed a counter of at least {@code value}; returns the last one. */
    public long awaitCounter(long value, long timeoutMillis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (System.currentTimeMillis() < deadline) {
            long last = lastCounter();
            if (last >= value) {
                return last;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("the guest's counter did not reach " + value + " within " + timeoutMillis
                + " ms; serial log so far:\n" + tail());
    }

    /** The index of the first counter that does not follow its predecessor by one, or -1. */
    public int firstGap() {
        List<Long> c = counters();
        for (int i = 1; i < c.size(); i++) {
            if (c.get(i) != c.get(i - 1) + 1) {
                return i;
            }
        }
        return -1;
    }

    public String tail() {
        String t = text();
        return t.length() > 2000 ? t.substring(t.length() - 2000) : t;
    }

    private int count(String needle) {
        String t = text();
        int n = 0;
        for (int i = t.indexOf(needle); i >= 0; i = t.indexOf(needle, i + 1)) {
            n++;
        }
        return n;
    }
}
