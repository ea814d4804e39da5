package io.ferry.api.protection;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * The baseline of one running domain: what its protected regions held when it was taken.
 *
 * @param host    the Ferry host name the domain runs on
 * @param domain  the domain's name
 * @param uuid    the domain's UUID (a baseline never applies to another domain of the same name)
 * @param regions the regions and their digests
 * @param takenAt when it was taken
 */
public record DomainBaseline(String host, String domain, String uuid, List<RegionBaseline> regions, Instant takenAt) {

    public DomainBaseline {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(domain, "domain");
        Objects.requireNonNull(uuid, "uuid");
        Objects.requireNonNull(takenAt, "takenAt");
        regions = List.copyOf(regions);
    }
}
