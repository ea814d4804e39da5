package io.ferry.migration.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.logging.Logger;

import io.ferry.api.migration.Cause;
import io.ferry.api.migration.MigrationOutcome;
import io.ferry.api.migration.Phase;

/**
 * The migration state that must survive an agent restart, in the agent's data folder: the session
 * ids migrate-in has seen ({@value #SESSIONS}: one per line, written and forced to disk BEFORE the
 * target answers an offer, so a replay after a restart, even after a kill -9, is refused) and the
 * finished migrations ({@value #HISTORY}: one outcome per line, fields URL-encoded, newest last).
 * Both files are append-only and compacted when they reach twice their limit (written aside, then
 * moved into place atomically). A torn last line (a kill during a write) is skipped on reading.
 */
final class MigrationStore {

    static final String SESSIONS = "sessions.log";
    static final String HISTORY = "history.log";
    private static final Logger LOG = Logger.getLogger(MigrationStore.class.getName());

    private final Path dir;
    private final int sessionLimit;
    private final int historyLimit;
    private int sessionLines;
    private int historyLines;

    MigrationStore(Path dir, int sessionLimit, int historyLimit) {
        this.dir = dir;
        this.sessionLimit = sessionLimit;
        this.historyLimit = Math.max(1, historyLimit);
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the migration state folder " + dir + ": " + e.getMessage(), e);
        }
    }

    Path dir() {
        return dir;
    }

    /** The session ids seen, oldest first (at most the limit). */
    synchronized List<String> sessions() {
        List<String> lines = read(SESSIONS);
        sessionLines = lines.size();
        List<String> valid = lines.stream().filter(l -> l.matches("[0-9a-f]{32}")).toList();
        return valid.subList(Math.max(0, valid.size() - sessionLimit), valid.size());
    }

    /** Records a session id as used, on disk, before the caller answers for it. */
    synchronized void useSession(String session, Supplier<List<String>> remembered) {
        append(SESSIONS, session);
        if (++sessionLines >= 2 * sessionLimit) {
            List<String> keep = remembered.get();
            rewrite(SESSIONS, keep);
            sessionLines = keep.size();
        }
    }

    /** The finished migrations, newest first (at most the limit). */
    synchronized List<MigrationOutcome> history() {
        List<String> lines = read(HISTORY);
        historyLines = lines.size();
        List<MigrationOutcome> out = new ArrayList<>();
        for (int i = lines.size() - 1; i >= 0 && out.size() < historyLimit; i--) {
            try {
                out.add(decode(lines.get(i)));
            } catch (RuntimeException e) {
                LOG.warning("skipping an unreadable line of " + dir.resolve(HISTORY) + ": " + e.getMessage());
            }
        }
        return out;
    }

    /** Appends a finished migration; {@code newestFirst} is the history as kept in memory, for a compaction. */
    synchronized void record(MigrationOutcome o, Supplier<List<MigrationOutcome>> history) {
        append(HISTORY, encode(o));
        if (++historyLines >= 2 * historyLimit) {
            List<MigrationOutcome> newestFirst = history.get();
            List<String> lines = new ArrayList<>();
            for (int i = newestFirst.size() - 1; i >= 0; i--) {
                lines.add(encode(newestFirst.get(i)));
            }
            rewrite(HISTORY, lines);
            historyLines = lines.size();
        }
    }

    static String encode(MigrationOutcome o) {
        return String.join(" ", e(o.id()), e(o.vm()), e(o.target()), e(o.user()), o.cause().name(),
                o.phase().name(), e(o.reason()), Boolean.toString(o.runsOnSource()), o.started().toString(),
                o.ended().toString(), Long.toString(o.preparationMillis()), Long.toString(o.transferMillis()),
                Long.toString(o.downtimeMillis()), Long.toString(o.bytesTransferred()),
                Long.toString(o.bytesCarried()));
    }

    static MigrationOutcome decode(String line) {
        String[] f = line.split(" ", -1);
        if (f.length != 15) {
            throw new IllegalArgumentException("a history line has 15 fields, this one " + f.length);
        }
        return new MigrationOutcome(d(f[0]), d(f[1]), d(f[2]), d(f[3]), Cause.valueOf(f[4]), Phase.valueOf(f[5]),
                d(f[6]), Boolean.parseBoolean(f[7]), Instant.parse(f[8]), Instant.parse(f[9]), Long.parseLong(f[10]),
                Long.parseLong(f[11]), Long.parseLong(f[12]), Long.parseLong(f[13]), Long.parseLong(f[14]));
    }

    private static String e(String s) {
        return s == null ? "-" : "=" + URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static String d(String s) {
        if (s.equals("-")) {
            return null;
        }
        if (!s.startsWith("=")) {
            throw new IllegalArgumentException("not an encoded field: " + s);
        }
        return URLDecoder.decode(s.substring(1), StandardCharsets.UTF_8);
    }

    private List<String> read(String file) {
        Path p = dir.resolve(file);
        if (!Files.exists(p)) {
            return List.of();
        }
        try {
            String text = Files.readString(p, StandardCharsets.UTF_8);
            List<String> lines = new ArrayList<>(List.of(text.split("\n", -1)));
            // the last element is "" after a complete last line, or a torn line after a kill mid-write
            String last = lines.remove(lines.size() - 1);
            if (!last.isEmpty()) {
                LOG.warning("ignoring the incomplete last line of " + p + " (the agent stopped while writing it)");
            }
            lines.removeIf(String::isEmpty);
            return lines;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + p + ": " + e.getMessage(), e);
        }
    }

    private void append(String file, String line) {
        Path p = dir.resolve(file);
        try (FileChannel c = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND)) {
            ByteBuffer b = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8));
            while (b.hasRemaining()) {
                c.write(b);
            }
            c.force(false);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + p + ": " + e.getMessage(), e);
        }
    }

    private void rewrite(String file, List<String> lines) {
        Path p = dir.resolve(file);
        Path tmp = dir.resolve(file + ".new");
        try (FileChannel c = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer b = ByteBuffer.wrap((lines.isEmpty() ? "" : String.join("\n", lines) + "\n")
                    .getBytes(StandardCharsets.UTF_8));
            while (b.hasRemaining()) {
                c.write(b);
            }
            c.force(false);
            Files.move(tmp, p, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            LOG.warning("cannot compact " + p + " (it keeps growing): " + e.getMessage());
        }
    }
}
