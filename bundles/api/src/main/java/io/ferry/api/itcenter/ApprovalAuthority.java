package io.ferry.api.itcenter;

import org.osgi.annotation.versioning.ProviderType;

import io.ferry.api.seal.Approval;
import io.ferry.api.seal.ApprovalRequest;

/**
 * The IT center's approvals of platform states for agents' seal storage (see
 * {@link io.ferry.api.seal.Approvals}): each approval for an agent carries a higher version than
 * every earlier one, so that installing it retires them.
 */
@ProviderType
public interface ApprovalAuthority {

    /** The approval public key (PEM) that agents configure as seal storage's approval key. */
    String publicKeyPem();

    /**
     * Approves the platform state an agent's seal storage asked for ({@code seal:request}).
     *
     * @param device an agent's id or name, or the name of a device not enrolled yet (its seal storage
     *        must work before enrolment, which keeps the agent's key in it)
     * @param actor  who decided, for the audit log
     * @throws ItCenterException INVALID for a malformed name, CONFLICT for a revoked agent
     */
    Approval approve(String device, ApprovalRequest request, String actor);
}
