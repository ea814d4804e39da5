package io.ferry.api.protection;

import java.util.Objects;

/**
 * The reference measurement of one region.
 *
 * @param region the region
 * @param sha256 the SHA-256 of its content at the baseline, lower-case hex
 */
public record RegionBaseline(ProtectedRegion region, String sha256) {

    public RegionBaseline {
        Objects.requireNonNull(region, "region");
        Objects.requireNonNull(sha256, "sha256");
    }
}
