package io.ferry.api.attestation;

import java.util.HashSet;
import java.util.List;

/**
 * Ordered security levels, lowest first, e.g. {@code untrusted < measured < trusted}.
 *
 * @param names the level names, lowest first, at least one, no duplicates
 */
public record SecurityLevels(List<String> names) {

    /** The default order: {@code untrusted < measured < trusted}. */
    public static final SecurityLevels DEFAULT = new SecurityLevels(List.of("untrusted", "measured", "trusted"));

    public SecurityLevels {
        names = List.copyOf(names);
        if (names.isEmpty()) {
            throw new IllegalArgumentException("at least one security level is needed");
        }
        names.forEach(n -> Checks.token("a security level", n));
        if (new HashSet<>(names).size() != names.size()) {
            throw new IllegalArgumentException("a security level is listed twice: " + names);
        }
    }

    /** The level's rank, 0 for the lowest. @throws IllegalArgumentException for an unknown level */
    public int rank(String level) {
        int i = names.indexOf(level);
        if (i < 0) {
            throw new IllegalArgumentException("unknown security level '" + Checks.printable(level) + "' (one of "
                    + names + ")");
        }
        return i;
    }

    /** Whether {@code level} is at least {@code required}. */
    public boolean atLeast(String level, String required) {
        return rank(level) >= rank(required);
    }

    public String lowest() {
        return names.get(0);
    }

    public String highest() {
        return names.get(names.size() - 1);
    }

    /** The lower of two levels. */
    public String min(String a, String b) {
        return rank(a) <= rank(b) ? a : b;
    }
}
