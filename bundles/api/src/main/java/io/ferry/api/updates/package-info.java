/**
 * Hot updates pushed by the IT center: which feature version each agent is to install, and what
 * came of it. See {@link io.ferry.api.updates.UpdateCenter}.
 */
@Export
@Version("1.0.0")
package io.ferry.api.updates;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
