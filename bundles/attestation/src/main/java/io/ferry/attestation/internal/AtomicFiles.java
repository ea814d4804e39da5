package io.ferry.attestation.internal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

final class AtomicFiles {

    private AtomicFiles() {
    }

    /** Forces a folder's entries (a created or renamed file) to the disk. */
    static void syncDir(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }
}
