package io.ferry.api.hypervisor;

/**
 * Statistics of a running or finished migration job. Figures libvirt did not report are -1.
 *
 * @param elapsedMillis   time since the job started
 * @param downtimeMillis  the guest's pause at switch-over (known when the job completed)
 * @param dataTotal       bytes to transfer in all (memory plus disk)
 * @param dataProcessed   bytes transferred so far
 * @param dataRemaining   bytes left
 * @param memoryBytesPerSecond  memory transfer rate
 * @param dirtyPagesPerSecond   rate at which the guest dirties memory
 * @param iterations      memory passes so far
 */
public record JobStats(long elapsedMillis, long downtimeMillis, long dataTotal, long dataProcessed,
        long dataRemaining, long memoryBytesPerSecond, long dirtyPagesPerSecond, long iterations) {

    public static final JobStats NONE = new JobStats(-1, -1, -1, -1, -1, -1, -1, -1);

    /** Share of the data already transferred, 0 to 100, or -1 when unknown. */
    public int percent() {
        if (dataTotal <= 0 || dataRemaining < 0) {
            return -1;
        }
        long done = dataTotal - dataRemaining;
        return (int) Math.max(0, Math.min(100, done * 100 / dataTotal));
    }
}
