/**
 * The IT center: the registry of enrolled agents, the certificate authority that issues their TLS
 * certificates, reference values and the append-only audit log. See {@link io.ferry.api.itcenter.ItCenter}.
 */
@Export
@Version("2.0.0")
package io.ferry.api.itcenter;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
