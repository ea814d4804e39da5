package io.ferry.api.migration;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Secure live migration of this agent's VMs to other agents (migrate-out); migrate-in is served
 * to other agents over channels. The VM runs on exactly one device at every moment: every
 * failure before the target confirms the VM runs there leaves it running on the source.
 */
@ProviderType
public interface Migrations {

    /**
     * Moves a VM to another agent and blocks until it runs there, or until the migration is
     * refused or has failed. Never throws for a refusal or a failure: the outcome says what
     * happened and where the VM runs.
     */
    MigrationOutcome migrateOut(MigrationRequest request, ProgressListener listener);

    /** The migrations in flight on this agent, out and in. */
    List<MigrationStatus> inFlight();

    /**
     * Aborts a migration in flight by its id (or a unique prefix of it) or by its VM's name; the VM stays
     * on the source.
     *
     * @return whether a migration was found and asked to abort
     */
    boolean abort(String idOrVm);

    /** Finished migrations of this agent, out and in, newest first. */
    List<MigrationOutcome> history();
}
