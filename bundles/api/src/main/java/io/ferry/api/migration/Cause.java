package io.ferry.api.migration;

/** Why a migration did not complete; {@link #NONE} for a completed one. */
public enum Cause {
    NONE,
    /** The request cannot be carried out as asked: no such VM on the host, or it is not running. */
    INVALID,
    /** The source's policy denies the move (the rule and its reason are in the outcome's cause). */
    POLICY,
    /** The peer's attestation failed or its verdict is not genuine; or no attestation is possible. */
    ATTESTATION,
    /** The VM's run-time integrity check did not find it intact, or no check was possible. */
    PROTECTION,
    /** The target refused: its policy, its validation of the VM's policy, its state, a replayed session. */
    TARGET_REFUSED,
    /** The channel could not be opened, or broke. */
    CHANNEL,
    /** libvirt failed to migrate the VM. */
    LIBVIRT,
    /** The migration did not finish in time. */
    TIMEOUT,
    /** Someone aborted it. */
    ABORTED,
    /** The VM moved but the target did not confirm it runs there. */
    UNCONFIRMED,
    /** Anything else (a bug or a missing service); the cause says what. */
    INTERNAL;

    public String word() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ');
    }
}
