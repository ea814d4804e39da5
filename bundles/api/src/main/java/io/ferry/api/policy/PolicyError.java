package io.ferry.api.policy;

/**
 * One thing wrong with a policy document.
 *
 * @param field   the field's path, e.g. {@code rules[2].min-target-level} ({@code ""} for the document)
 * @param line    1-based line in the document, 0 when there is no document position
 * @param column  1-based column, 0 when unknown
 * @param message what is wrong, in words
 */
public record PolicyError(String field, int line, int column, String message) {

    @Override
    public String toString() {
        String where = line > 0 ? "line " + line + (column > 0 ? ":" + column : "") : "";
        String what = field.isEmpty() ? "" : field;
        String prefix = where.isEmpty() ? what : what.isEmpty() ? where : where + ", " + what;
        return prefix.isEmpty() ? message : prefix + ": " + message;
    }
}
