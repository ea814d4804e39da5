package io.ferry.api.policy;

import java.time.Instant;

/**
 * A validity period: from {@code from} (inclusive) until {@code until} (exclusive); either end may
 * be open (null).
 */
public record Validity(Instant from, Instant until) {

    /** No limits. */
    public static final Validity ALWAYS = new Validity(null, null);

    public Validity {
        if (from != null && until != null && !from.isBefore(until)) {
            throw new IllegalArgumentException("a validity period ends after it starts: " + from + " .. " + until);
        }
    }

    public boolean contains(Instant t) {
        return (from == null || !t.isBefore(from)) && (until == null || t.isBefore(until));
    }

    /** Whether the period has not started yet at {@code t}. */
    public boolean notYet(Instant t) {
        return from != null && t.isBefore(from);
    }

    @Override
    public String toString() {
        return (from == null ? "always" : from.toString()) + " .. " + (until == null ? "open end" : until.toString());
    }
}
