/**
 * Hypervisor protection: run-time measurement of running guests' protected memory (for example the
 * guest kernel's text) and of the host's hypervisor components. See
 * {@link io.ferry.api.protection.HypervisorProtection}.
 */
@Export
@Version("1.2.0")
package io.ferry.api.protection;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
