package io.ferry.api.updates;

/** Where a pushed update stands on one agent. */
public enum UpdateState {
    /** Pushed; the agent has not reported yet. */
    PENDING,
    /** The agent installed the version and reported it active. */
    APPLIED,
    /** The agent tried and failed; the detail says why. */
    FAILED
}
