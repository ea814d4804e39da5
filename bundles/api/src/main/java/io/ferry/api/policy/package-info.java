/**
 * Role-based migration policies: one per VM, signed by the IT center, held sealed by every agent
 * that may run the VM, and consulted before every migration. See
 * {@link io.ferry.api.policy.PolicyService} (agents), {@link io.ferry.api.policy.PolicySigner}
 * (the IT center) and {@link io.ferry.api.policy.DecisionAudit} (where decisions are reported).
 */
@Export
@Version("1.0.0")
package io.ferry.api.policy;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
