package io.ferry.hypervisor.internal;

/**
 * The downtime limit a live migration runs under. QEMU stops the guest for the final copy as soon as
 * it expects the remaining dirty memory to go over within the limit; with the configured maximum (300 ms
 * by default) that happens right after the first pass, and everything the guest dirtied during it is
 * copied while the guest is paused. Over a slower path (Ferry's relay and TLS channel) that final copy
 * is what lengthens the pause. So a migration first aims at {@link #TARGET_MS} and relaxes to the
 * configured maximum only if QEMU has not switched over after {@link #RELAX_AFTER_ITERATIONS} passes
 * (a guest that dirties memory faster than the link can follow): the configured value stays the bound.
 */
final class SwitchOver {

    static final long TARGET_MS = 30;
    static final long RELAX_AFTER_ITERATIONS = 5;

    private SwitchOver() {
    }

    /** The limit to start with. */
    static long initialLimit(long configuredMillis) {
        return Math.min(configuredMillis, TARGET_MS);
    }

    /** Whether to relax to the configured maximum, given QEMU's pass counter (memory_iteration; -1 unknown). */
    static boolean relax(long configuredMillis, long iterations) {
        return configuredMillis > TARGET_MS && iterations >= RELAX_AFTER_ITERATIONS;
    }
}
