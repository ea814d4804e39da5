package io.ferry.api.itcenter;

import java.time.Instant;

/**
 * An event in the append-only audit log.
 *
 * @param seq    its position in the log, increasing
 * @param time   when it was recorded
 * @param kind   what happened
 * @param agent  the agent it concerns, or null
 * @param vm     the VM it concerns, or null
 * @param actor  who caused it
 * @param detail free text
 */
public record AuditEvent(long seq, Instant time, String kind, String agent, String vm, String actor, String detail) {
}
