package io.ferry.api.protection;

/**
 * A host hypervisor component measured again against the measurement log.
 *
 * @param component the component name as in the measurement log (the binary's file name)
 * @param path      the file measured
 * @param logged    the SHA-256 of its latest entry in the measurement log, or null when it has none
 * @param actual    the SHA-256 of the file now, or null when it cannot be read
 */
public record ComponentCheck(String component, String path, String logged, String actual) {

    /** Whether the file is what the log says was measured. */
    public boolean matches() {
        return logged != null && logged.equals(actual);
    }
}
