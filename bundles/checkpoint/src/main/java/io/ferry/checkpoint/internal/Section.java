package io.ferry.checkpoint.internal;

/** The parts of a checkpoint's body, in this order: XML, memory, then one disk part per disk, then the end. */
enum Section {
    /** The end: the SHA-256 of everything before it. */
    END(0),
    /** The domain XML at the checkpoint (UTF-8). */
    XML(1),
    /** The memory image libvirt wrote (memory, CPU and device state). */
    MEMORY(2),
    /** A disk's whole image (qcow2, no backing file), named by its target (vda). */
    DISK_FULL(3),
    /** A disk's writes since the base checkpoint (a qcow2 overlay), named by its target. */
    DISK_DELTA(4),
    /** The memory image as a {@link MemoryDelta} on the previous checkpoint's (named by its sequence). */
    MEMORY_DELTA(5);

    final int code;

    Section(int code) {
        this.code = code;
    }

    static Section of(int code) throws CorruptCheckpointException {
        for (Section s : values()) {
            if (s.code == code) {
                return s;
            }
        }
        throw new CorruptCheckpointException("unknown section " + code);
    }
}
