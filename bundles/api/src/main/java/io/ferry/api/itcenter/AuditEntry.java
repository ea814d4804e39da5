package io.ferry.api.itcenter;

/**
 * An event to append to the audit log.
 *
 * @param kind   what happened, dotted lower case, e.g. {@code agent.registered}, {@code access.refused},
 *               {@code migration.completed}: 1 to 64 characters of {@code [a-z0-9._-]}
 * @param agent  the agent it concerns, or null
 * @param vm     the VM it concerns, or null
 * @param actor  who caused it: {@code agent:<id>}, {@code console:<user>}, {@code itcenter}, or a client address
 * @param detail free text, at most 4000 characters
 */
public record AuditEntry(String kind, String agent, String vm, String actor, String detail) {
}
