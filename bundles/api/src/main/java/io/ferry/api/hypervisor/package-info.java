/**
 * The hypervisor of a device, as Ferry sees it: domains, live migration, checkpoints and
 * guest memory. One {@link io.ferry.api.hypervisor.Hypervisor} service is registered per
 * configured libvirt host, with the service property {@code ferry.host}.
 */
@Export
@Version("1.2.0")
package io.ferry.api.hypervisor;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
