package io.ferry.api.protection;

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
}
