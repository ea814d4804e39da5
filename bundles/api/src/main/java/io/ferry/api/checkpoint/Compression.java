package io.ferry.api.checkpoint;

import java.util.Locale;

/** How a checkpoint's memory image and disk data are compressed before they are encrypted. */
public enum Compression {
    NONE, GZIP, ZSTD, LZ4;

    /** Parses a name, case-insensitively ({@code none}, {@code gzip}, {@code zstd}, {@code lz4}). */
    public static Compression parse(String text) {
        try {
            return valueOf(text.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new IllegalArgumentException("unknown compression '" + text + "' (none, gzip, zstd, lz4)");
        }
    }
}
