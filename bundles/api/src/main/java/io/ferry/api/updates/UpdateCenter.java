package io.ferry.api.updates;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The IT center's record of pushed updates. Pushing and every report are in the audit log, in the
 * same transaction; refused input throws {@link io.ferry.api.itcenter.ItCenterException}.
 */
@ProviderType
public interface UpdateCenter {

    /**
     * Records an update of a feature for each agent (id or name).
     *
     * @param repository the features repository the agents add first, or null
     * @param actor      who pushed it, for the audit log
     * @return one update per agent
     */
    List<Update> push(String feature, String version, String repository, List<String> agents, String actor);

    /** The updates of an agent (by id), or of all agents when null, newest first, at most {@code limit}. */
    List<Update> updates(String agent, int limit);

    /** The agent's updates still pending, oldest first. */
    List<Update> pending(String agentId);

    /**
     * Records an agent's outcome of one of its updates.
     *
     * @param state APPLIED or FAILED
     * @throws io.ferry.api.itcenter.ItCenterException NOT_FOUND when it is not that agent's update, CONFLICT
     *         when it was already reported
     */
    Update report(String agentId, long id, UpdateState state, String detail);
}
