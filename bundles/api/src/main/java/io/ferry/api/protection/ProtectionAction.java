package io.ferry.api.protection;

/** What the agent does, beyond the alert, when a domain's protected memory changed. */
public enum ProtectionAction {
    /** Only refuse the domain's migration (every check reports it CHANGED until a new baseline). */
    REFUSE_MIGRATION,
    /** Also pause the domain's virtual CPUs. */
    PAUSE
}
