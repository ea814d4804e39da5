package io.ferry.api.itcenter;

/** Whether an agent may authenticate to the IT center and its peers. */
public enum AgentStatus {
    /** Registered; its unrevoked, unexpired certificates are accepted. */
    ACTIVE,
    /** Revoked: every certificate it ever had is on the CRL, and it cannot renew. */
    REVOKED
}
