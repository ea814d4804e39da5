/**
 * Role-based migration policies: one per VM, signed by the IT center, held sealed by every agent
 * that may run the VM, and consulted before every migration. See
 * {@link io.ferry.api.policy.PolicyService} (agents), {@link io.ferry.api.policy.PolicySigner}
 * (the IT center) and {@link io.ferry.api.policy.DecisionAudit} (where decisions are reported).
 * <p>
 * 2.0.0: the security levels are {@link io.ferry.api.attestation.SecurityLevels}, the ordering the
 * verifier produces levels in (the package's own SecurityLevels is gone);
 * {@link io.ferry.api.policy.PolicyService#fetchPolicy} and {@code PolicyException.Reason.ITCENTER}.
 */
@Export
@Version("2.0.0")
package io.ferry.api.policy;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
