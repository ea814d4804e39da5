package io.ferry.api.policy;

import java.util.HashSet;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The ordered security levels that attestation assigns to devices, lowest first. A level reaches a
 * minimum when it is that level or a higher one; an unknown or missing level reaches none.
 */
public record SecurityLevels(List<String> lowestFirst) {

    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_-]{0,31}");

    /** Ferry's default: {@code untrusted < basic < measured < attested}. */
    public static final SecurityLevels DEFAULT = new SecurityLevels(List.of("untrusted", "basic", "measured", "attested"));

    public SecurityLevels {
        lowestFirst = List.copyOf(lowestFirst);
        if (lowestFirst.isEmpty()) {
            throw new IllegalArgumentException("at least one security level");
        }
        if (new HashSet<>(lowestFirst).size() != lowestFirst.size()) {
            throw new IllegalArgumentException("security levels are named once each: " + lowestFirst);
        }
        for (String l : lowestFirst) {
            if (!NAME.matcher(l).matches()) {
                throw new IllegalArgumentException("not a security level name (a-z, 0-9, _ and -): '" + l + "'");
            }
        }
    }

    /** Parses {@code "untrusted, basic, measured"}. */
    public static SecurityLevels parse(String commaSeparated) {
        return new SecurityLevels(List.of(commaSeparated.strip().split("\\s*,\\s*")));
    }

    public boolean contains(String level) {
        return level != null && lowestFirst.contains(level);
    }

    /** Whether {@code level} is {@code minimum} or above it (false when either is unknown). */
    public boolean reaches(String level, String minimum) {
        if (level == null || minimum == null) {
            return false;
        }
        int l = lowestFirst.indexOf(level);
        int m = lowestFirst.indexOf(minimum);
        return l >= 0 && m >= 0 && l >= m;
    }

    @Override
    public String toString() {
        return String.join(" < ", lowestFirst);
    }
}
