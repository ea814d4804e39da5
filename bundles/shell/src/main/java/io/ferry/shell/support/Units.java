package io.ferry.shell.support;

import java.util.Locale;

/** Human-readable bytes, rates and durations for console output. */
public final class Units {

    private Units() {
    }

    public static String bytes(long bytes) {
        if (bytes < 0) {
            return "?";
        }
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = { "KiB", "MiB", "GiB", "TiB" };
        double v = bytes;
        int i = -1;
        while (v >= 1024 && i < units.length - 1) {
            v /= 1024;
            i++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[i]);
    }

    public static String rate(long bytesPerSecond) {
        return bytesPerSecond < 0 ? "?" : bytes(bytesPerSecond) + "/s";
    }

    public static String millis(long millis) {
        if (millis < 0) {
            return "?";
        }
        if (millis < 1000) {
            return millis + " ms";
        }
        return String.format(Locale.ROOT, "%.2f s", millis / 1000.0);
    }
}
