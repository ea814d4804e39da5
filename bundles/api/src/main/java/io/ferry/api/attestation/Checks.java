package io.ferry.api.attestation;

import java.util.HexFormat;
import java.util.regex.Pattern;

/** Validation shared by the value types of this package. */
final class Checks {

    private static final Pattern HEX64 = Pattern.compile("[0-9a-f]{64}");
    /** Component names and versions: printable, no whitespace or separators that the log format uses. */
    private static final Pattern TOKEN = Pattern.compile("[\\x21-\\x7e&&[^|]]{1,200}");

    private Checks() {
    }

    static String sha256Hex(String what, String hex) {
        if (hex == null || !HEX64.matcher(hex).matches()) {
            throw new IllegalArgumentException(what + " must be 64 lower-case hex digits (SHA-256), not '"
                    + printable(hex) + "'");
        }
        return hex;
    }

    static String token(String what, String value) {
        if (value == null || !TOKEN.matcher(value).matches()) {
            throw new IllegalArgumentException(what + " must be 1 to 200 printable ASCII characters without spaces "
                    + "or '|', not '" + printable(value) + "'");
        }
        return value;
    }

    static byte[] bytes(String what, byte[] b, int min, int max) {
        if (b == null) {
            throw new IllegalArgumentException(what + " is missing");
        }
        if (b.length < min || b.length > max) {
            throw new IllegalArgumentException(what + " must have " + (min == max ? min : min + " to " + max)
                    + " bytes, not " + b.length);
        }
        return b.clone();
    }

    static void pcr(String what, int pcr) {
        if (pcr < 0 || pcr > 23) {
            throw new IllegalArgumentException(what + " must be a PCR from 0 to 23, not " + pcr);
        }
    }

    /** A value for an error message: at most 80 characters, control characters escaped. */
    static String printable(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length() && b.length() < 80; i++) {
            char c = s.charAt(i);
            b.append(c >= 0x20 && c < 0x7f ? String.valueOf(c) : String.format("\\u%04x", (int) c));
        }
        return s.length() > 80 ? b + "..." : b.toString();
    }

    static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }
}
