package io.ferry.shell.support;

import java.io.PrintStream;

import io.ferry.api.hypervisor.JobStats;

/** Draws a migration's progress on one console line, redrawn in place. */
public final class ProgressBar {

    private static final int WIDTH = 30;

    private final PrintStream out;
    private int lastLength;

    public ProgressBar(PrintStream out) {
        this.out = out;
    }

    public synchronized void update(JobStats s) {
        String line = render(s);
        // pad with spaces so a shorter line fully covers the previous one
        StringBuilder sb = new StringBuilder("\r").append(line);
        for (int i = line.length(); i < lastLength; i++) {
            sb.append(' ');
        }
        lastLength = line.length();
        out.print(sb);
        out.flush();
    }

    public synchronized void finish() {
        if (lastLength > 0) {
            out.println();
            lastLength = 0;
        }
    }

    static String render(JobStats s) {
        int pct = s.percent();
        int filled = pct < 0 ? 0 : pct * WIDTH / 100;
        StringBuilder bar = new StringBuilder("[");
        for (int i = 0; i < WIDTH; i++) {
            bar.append(i < filled ? '#' : '-');
        }
        bar.append("] ").append(pct < 0 ? "  ?" : String.format("%3d", pct)).append('%');
        bar.append("  ").append(Units.rate(s.memoryBytesPerSecond()));
        bar.append("  remaining ").append(Units.bytes(s.dataRemaining()));
        if (s.dirtyPagesPerSecond() >= 0) {
            bar.append("  dirty ").append(s.dirtyPagesPerSecond()).append(" pages/s");
        }
        bar.append("  ").append(Units.millis(s.elapsedMillis()));
        return bar.toString();
    }
}
