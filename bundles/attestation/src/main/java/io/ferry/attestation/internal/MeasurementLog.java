package io.ferry.attestation.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

import io.ferry.api.attestation.ComponentKind;
import io.ferry.api.attestation.MeasurementEntry;

/**
 * The persistent measurement log: an append-only text file, one record a line, each line ending in a
 * check value so that a line a crash cut short is recognised.
 * <pre>
 * M|sequence|pcr|kind|component|version|sha256|time|check     a measurement event
 * R|time|pcrValueSeen|check                                    the TPM was reset: events before it are history
 * </pre>
 * {@code check} is the first 16 hex digits of SHA-256 of the line up to and including the last {@code |}.
 * Every append is written and forced to the disk before the PCR is extended, so that after a crash the
 * log has at most one event more than the PCR (which start-up completes), never fewer. A torn last line
 * (no newline, or a bad check) is cut off at start-up and kept aside in a {@code .torn-*} file, and said
 * in the status; a bad line anywhere else makes the log unreadable ({@link CorruptLogException}).
 */
final class MeasurementLog {

    /** A line longer than this is not one that Ferry wrote. */
    static final int MAX_LINE = 1024;

    private final Path file;
    private final List<MeasurementEntry> all = new ArrayList<>();
    private int segmentStart;
    private String recovered;

    /** The log could not be read: a line other than the last is damaged. */
    static final class CorruptLogException extends IOException {
        private static final long serialVersionUID = 1L;

        CorruptLogException(String message) {
            super(message);
        }
    }

    private MeasurementLog(Path file) {
        this.file = file;
    }

    /**
     * Opens (creating) the log, cutting off a torn last line.
     *
     * @throws CorruptLogException when a line before the last is damaged
     */
    static MeasurementLog open(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        MeasurementLog log = new MeasurementLog(file);
        log.load();
        return log;
    }

    private void load() throws IOException {
        if (!Files.exists(file)) {
            Files.createFile(file);
            AtomicFiles.syncDir(file.getParent());
            return;
        }
        byte[] bytes = Files.readAllBytes(file);
        int start = 0;
        int lineNo = 0;
        while (start < bytes.length) {
            lineNo++;
            int nl = indexOf(bytes, (byte) '\n', start);
            boolean last = nl < 0 || nl == bytes.length - 1;
            String problem;
            if (nl < 0) {
                problem = "no newline at its end";
            } else {
                problem = parse(new String(bytes, start, nl - start, StandardCharsets.US_ASCII));
            }
            if (problem != null) {
                if (!last) {
                    throw new CorruptLogException(file + " line " + lineNo + " is damaged (" + problem
                            + "): the measurement log cannot be trusted; move it aside to start a new one");
                }
                cutTornTail(bytes, start, problem);
                return;
            }
            start = nl + 1;
        }
    }

    private void cutTornTail(byte[] bytes, int start, String problem) throws IOException {
        Path aside = file.resolveSibling(file.getFileName() + ".torn-" + System.currentTimeMillis());
        Files.write(aside, Arrays.copyOfRange(bytes, start, bytes.length), StandardOpenOption.CREATE_NEW);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(start);
            ch.force(true);
        }
        AtomicFiles.syncDir(file.getParent());
        recovered = "a torn last line of the measurement log (" + (bytes.length - start) + " bytes, " + problem
                + ") was cut off at start and kept in " + aside.getFileName();
    }

    private static int indexOf(byte[] b, byte v, int from) {
        for (int i = from; i < b.length; i++) {
            if (b[i] == v) {
                return i;
            }
        }
        return -1;
    }

    /** Adds the line's record; returns why it is not a valid line, or null. */
    private String parse(String line) {
        if (line.length() > MAX_LINE) {
            return "longer than " + MAX_LINE + " characters";
        }
        int cut = line.lastIndexOf('|');
        if (cut < 0 || !check(line.substring(0, cut + 1)).equals(line.substring(cut + 1))) {
            return "its check value does not match";
        }
        String[] f = line.substring(0, cut).split("\\|", -1);
        try {
            if (f[0].equals("R") && f.length == 3) {
                Instant.parse(f[1]);
                segmentStart = all.size();
                return null;
            }
            if (f[0].equals("M") && f.length == 8) {
                MeasurementEntry e = new MeasurementEntry(Long.parseLong(f[1]), Integer.parseInt(f[2]),
                        ComponentKind.ofLabel(f[3]), f[4], f[5], f[6], Instant.parse(f[7]));
                if (e.sequence() != all.size() + 1) {
                    return "sequence " + e.sequence() + " where " + (all.size() + 1) + " was expected";
                }
                all.add(e);
                return null;
            }
            return "not a record Ferry writes";
        } catch (RuntimeException e) {
            return e.getMessage();
        }
    }

    static String check(String prefix) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(prefix.getBytes(StandardCharsets.US_ASCII));
            return HexFormat.of().formatHex(d, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private void append(String body) throws IOException {
        String line = body + check(body) + "\n";
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            ByteBuffer b = ByteBuffer.wrap(line.getBytes(StandardCharsets.US_ASCII));
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        }
    }

    /** Appends a measurement event (forced to the disk) and returns it with its sequence number. */
    MeasurementEntry append(MeasurementEntry event) throws IOException {
        MeasurementEntry e = event.withSequence(all.size() + 1);
        append("M|" + e.sequence() + "|" + e.pcr() + "|" + e.kind().label() + "|" + e.component() + "|" + e.version()
                + "|" + e.sha256() + "|" + e.time() + "|");
        all.add(e);
        return e;
    }

    /** Records that the TPM was reset (the PCR was found at {@code pcrValue}): a new segment starts. */
    void reset(Instant time, byte[] pcrValue) throws IOException {
        append("R|" + time + "|" + HexFormat.of().formatHex(pcrValue) + "|");
        segmentStart = all.size();
    }

    /** The events since the last reset. */
    List<MeasurementEntry> current() {
        return List.copyOf(all.subList(segmentStart, all.size()));
    }

    long total() {
        return all.size();
    }

    Path file() {
        return file;
    }

    /** What start-up recovered from (a torn line cut off), or null. */
    String recovered() {
        return recovered;
    }
}
