package io.ferry.checkpoint.internal;

import java.io.IOException;

/** A checkpoint that is malformed, truncated, tampered with or under another key. */
final class CorruptCheckpointException extends IOException {

    private static final long serialVersionUID = 1L;

    CorruptCheckpointException(String message) {
        super(message);
    }

    CorruptCheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
