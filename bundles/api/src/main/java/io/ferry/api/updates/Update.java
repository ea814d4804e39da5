package io.ferry.api.updates;

import java.time.Instant;

/**
 * One pushed update for one agent.
 *
 * @param id         its number at the IT center
 * @param agent      the agent's id
 * @param feature    the Karaf feature to install
 * @param version    the feature version to install (with upgrade: the older one is replaced)
 * @param repository the features repository URI the agent adds before installing, or null for the
 *                   repositories it already has
 * @param state      where it stands
 * @param detail     the agent's report, or null while pending
 * @param pushedAt   when it was pushed
 * @param reportedAt when the agent reported, or null
 */
public record Update(long id, String agent, String feature, String version, String repository, UpdateState state,
        String detail, Instant pushedAt, Instant reportedAt) {
}
