package io.ferry.api.protection;

import java.util.Objects;

/**
 * A guest memory region whose content must not change while the guest runs.
 *
 * @param name          what it is, e.g. {@code kernel-text}
 * @param virtualStart  its guest-virtual start address (0 when configured by physical address only)
 * @param physicalStart its guest-physical start address: the region is physically contiguous
 * @param length        its length in bytes
 * @param source        how it was found: {@code info-tlb} (located at this boot) or {@code configured}
 */
public record ProtectedRegion(String name, long virtualStart, long physicalStart, long length, String source) {

    public ProtectedRegion {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(source, "source");
        if (length <= 0) {
            throw new IllegalArgumentException("a protected region needs a positive length, not " + length);
        }
    }
}
