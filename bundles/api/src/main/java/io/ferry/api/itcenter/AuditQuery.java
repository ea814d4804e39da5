package io.ferry.api.itcenter;

import java.time.Instant;

/**
 * A filter over the audit log; null fields match everything. Results come oldest first.
 *
 * @param agent only events about this agent
 * @param vm    only events about this VM
 * @param kind  only events of this kind, or of its sub-kinds when it ends with {@code .*}
 * @param since only events recorded at or after this time
 * @param limit at most this many events (the newest ones), 1 to 10000
 */
public record AuditQuery(String agent, String vm, String kind, Instant since, int limit) {

    /** Everything, up to 1000 events. */
    public static AuditQuery all() {
        return new AuditQuery(null, null, null, null, 1000);
    }
}
