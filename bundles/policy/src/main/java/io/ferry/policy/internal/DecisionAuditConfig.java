package io.ferry.policy.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(name = "Ferry policy decisions to the IT center",
        description = "Sends every policy decision to the IT center's audit log through the agent's IT center link, "
                + "without holding the decision up (PID io.ferry.policy.audit).")
public @interface DecisionAuditConfig {

    @AttributeDefinition(name = "Queue capacity", description = "Decisions waiting to be sent at most; beyond it a "
            + "decision is not sent, and the drop is counted and logged.")
    int queue_capacity() default 10_000;

    @AttributeDefinition(name = "Longest retry pause (seconds)", description = "While the IT center cannot be reached, "
            + "the sender retries the oldest decision, pausing 0.5 s, doubling up to this.")
    int retry_max_seconds() default 30;

    @AttributeDefinition(name = "Request timeout (seconds)", description = "The deadline of one audit request.")
    int request_timeout_seconds() default 10;
}
