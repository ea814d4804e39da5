package io.ferry.api.policy;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Where the policy service reports every decision it makes (the IT center's audit log, through
 * the agent's IT center client). Any number may be registered; with none, the policy service logs
 * the decisions. Called synchronously after each decision: an implementation returns quickly
 * (queue if it must send), and an exception it throws is logged and does not change the decision.
 */
@ConsumerType
public interface DecisionAudit {

    /**
     * @param request  what was asked
     * @param decision what was answered
     * @param policy   the policy that decided, or null when there was none
     */
    void decided(DecisionRequest request, Decision decision, SignedPolicy policy);
}
