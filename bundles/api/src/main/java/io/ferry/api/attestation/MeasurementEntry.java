package io.ferry.api.attestation;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;

/**
 * One event of the measurement log: a component was measured and the measurement PCR extended with
 * {@link #eventDigest()}.
 *
 * @param sequence the event's number in the log, from 1, across TPM resets
 * @param pcr the PCR that was extended
 * @param kind what the component is
 * @param component its name: a bundle's symbolic name, or a binary's file name (e.g. {@code qemu-system-x86_64})
 * @param version its version: a bundle's version, the binary's version as it reports it, or {@code unknown}
 * @param sha256 the SHA-256 of its content, 64 lower-case hex digits
 * @param time when it was measured (informational: the time is not part of what the PCR attests)
 */
public record MeasurementEntry(long sequence, int pcr, ComponentKind kind, String component, String version,
        String sha256, Instant time) {

    /** The prefix of every event digest's input, so that a Ferry event cannot be mistaken for another's. */
    public static final String EVENT_PREFIX = "ferry-measurement-v1";

    public MeasurementEntry {
        if (sequence < 1) {
            throw new IllegalArgumentException("a measurement's sequence number starts at 1, not " + sequence);
        }
        Checks.pcr("a measurement's PCR", pcr);
        if (kind == null) {
            throw new IllegalArgumentException("a measurement's kind is missing");
        }
        Checks.token("a component name", component);
        Checks.token("a component version", version);
        Checks.sha256Hex("a measurement's digest", sha256);
        if (time == null) {
            throw new IllegalArgumentException("a measurement's time is missing");
        }
    }

    /**
     * What the PCR is extended with: SHA-256 of
     * {@code "ferry-measurement-v1|" kind "|" component "|" version "|" sha256} (ASCII; kind and digest as
     * in the log). It binds the name and version to the digest, so that a log whose names were edited does
     * not replay.
     */
    public byte[] eventDigest() {
        return eventDigest(kind, component, version, sha256);
    }

    /** {@link #eventDigest()} of those fields. */
    public static byte[] eventDigest(ComponentKind kind, String component, String version, String sha256) {
        String s = EVENT_PREFIX + "|" + kind.label() + "|" + component + "|" + version + "|" + sha256;
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.US_ASCII));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The same event under another sequence number. */
    public MeasurementEntry withSequence(long newSequence) {
        return new MeasurementEntry(newSequence, pcr, kind, component, version, sha256, time);
    }
}
