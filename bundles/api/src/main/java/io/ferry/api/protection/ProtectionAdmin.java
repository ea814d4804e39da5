package io.ferry.api.protection;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The administration of hypervisor protection (what the console shows and does); registered by
 * the same component as {@link HypervisorProtection}. A domain is named by the Ferry host it runs
 * on and its name.
 */
@ProviderType
public interface ProtectionAdmin {

    /** The provider's state and the last check of every protected domain. */
    ProtectionStatus status();

    /** Every baseline held. */
    List<DomainBaseline> baselines();

    /** The regions protected for a running domain, located now (the kernel text moves with KASLR at each boot). */
    List<ProtectedRegion> regions(String host, String domain);

    /** Locates and measures the domain's regions now and makes that its baseline, replacing any earlier one. */
    DomainBaseline baseline(String host, String domain);

    /** The newest alerts, oldest first, at most {@code limit}. */
    List<ProtectionAlert> alerts(int limit);

    /** Measures the host's QEMU and libvirtd binaries again and compares them with the measurement log. */
    List<ComponentCheck> checkComponents();
}
