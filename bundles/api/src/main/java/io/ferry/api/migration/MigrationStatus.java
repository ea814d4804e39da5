package io.ferry.api.migration;

import java.time.Instant;

/**
 * A migration in flight on this agent.
 *
 * @param id        its id
 * @param direction {@code out} (this agent is the source) or {@code in} (the target)
 * @param vm        the VM's name
 * @param peer      the other agent
 * @param user      who asked
 * @param started   when it started
 * @param progress  the latest progress
 */
public record MigrationStatus(String id, String direction, String vm, String peer, String user, Instant started,
        MigrationProgress progress) {
}
