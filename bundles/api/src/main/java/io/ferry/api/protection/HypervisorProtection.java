package io.ferry.api.protection;

import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Run-time integrity of the guests an agent runs. The IT center may replace the bundle that
 * provides it at any time, also during a migration: consumers hold a dynamic greedy reference
 * and, when the service is briefly absent, wait a bounded time for its successor.
 */
@ProviderType
public interface HypervisorProtection {

    /**
     * Measures the domain's protected memory now and compares it with its baseline.
     *
     * @param host   the Ferry host name of the hypervisor the domain runs on
     * @param domain the domain's name
     * @return the result; {@link IntegrityCheck#intact()} is what a migration requires
     */
    IntegrityCheck check(String host, String domain);

    /**
     * The newest result of a check of the domain that already ran (a periodic round or a call of
     * {@link #check}), without measuring anything now. Its {@link IntegrityCheck#measuredAt()} is when
     * that measurement began, so its age is an upper bound of how long ago the protected memory was
     * found as it is in the result. Empty when this provider has no such result (none yet, for example
     * right after a restart or a hot update), or none it still vouches for: the domain's baseline was
     * taken again since, or the domain of that name is another one now.
     *
     * @param host   the Ferry host name of the hypervisor the domain runs on
     * @param domain the domain's name
     * @return the newest result, if any; a consumer decides itself how old a result it accepts
     * @since 1.2
     */
    default Optional<IntegrityCheck> latest(String host, String domain) {
        return Optional.empty();
    }
}
