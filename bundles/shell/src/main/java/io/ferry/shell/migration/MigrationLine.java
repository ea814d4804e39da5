package io.ferry.shell.migration;

import java.io.PrintStream;

import io.ferry.api.migration.MigrationProgress;
import io.ferry.api.migration.Phase;
import io.ferry.shell.support.Units;

/** Draws a secure migration's progress on one console line, redrawn in place: the phase, then libvirt's figures. */
final class MigrationLine {

    private static final int WIDTH = 30;

    private final PrintStream out;
    private int lastLength;

    MigrationLine(PrintStream out) {
        this.out = out;
    }

    synchronized void update(MigrationProgress p) {
        if (p.phase() == Phase.DONE) {
            return;
        }
        String line = render(p);
        StringBuilder sb = new StringBuilder("\r").append(line);
        for (int i = line.length(); i < lastLength; i++) {
            sb.append(' ');
        }
        lastLength = line.length();
        out.print(sb);
        out.flush();
    }

    synchronized void finish() {
        if (lastLength > 0) {
            out.println();
            lastLength = 0;
        }
    }

    static String render(MigrationProgress p) {
        StringBuilder b = new StringBuilder();
        b.append(String.format("%-12s", p.phase().word()));
        if (p.phase() == Phase.TRANSFER && p.percent() >= 0) {
            int filled = p.percent() * WIDTH / 100;
            b.append(" [");
            for (int i = 0; i < WIDTH; i++) {
                b.append(i < filled ? '#' : '-');
            }
            b.append("] ").append(String.format("%3d", p.percent())).append('%');
            b.append("  ").append(Units.rate(p.bytesPerSecond()));
            b.append("  remaining ").append(Units.bytes(p.remainingBytes()));
            if (p.dirtyPagesPerSecond() >= 0) {
                b.append("  dirty ").append(p.dirtyPagesPerSecond()).append(" pages/s");
            }
        } else if (!p.note().isEmpty()) {
            b.append(' ').append(p.note());
        }
        b.append("  ").append(Units.millis(p.elapsedMillis()));
        return b.toString();
    }
}
