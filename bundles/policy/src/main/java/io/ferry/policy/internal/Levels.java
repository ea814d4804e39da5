package io.ferry.policy.internal;

import java.util.List;

import io.ferry.api.attestation.SecurityLevels;

/**
 * What the policy needs of the verifier's {@link SecurityLevels} beyond the type itself: the
 * configuration's comma-separated form, a null-safe "reaches", and the ordering in words.
 */
public final class Levels {

    private Levels() {
    }

    /**
     * Parses {@code "untrusted, measured, trusted"} (lowest first).
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public static SecurityLevels parse(String commaSeparated) {
        return new SecurityLevels(List.of(commaSeparated.strip().split("\\s*,\\s*")));
    }

    /** Whether {@code level} is one of the levels (false for null). */
    public static boolean known(SecurityLevels levels, String level) {
        return level != null && levels.names().contains(level);
    }

    /** Whether {@code level} is {@code minimum} or above it; false when either is null or unknown. */
    public static boolean reaches(SecurityLevels levels, String level, String minimum) {
        return known(levels, level) && known(levels, minimum) && levels.atLeast(level, minimum);
    }

    /** {@code untrusted < measured < trusted}. */
    public static String describe(SecurityLevels levels) {
        return String.join(" < ", levels.names());
    }
}
