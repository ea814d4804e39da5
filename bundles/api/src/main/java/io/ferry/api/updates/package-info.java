/**
 * Hot updates pushed by the IT center: which feature version each agent is to install, and what
 * came of it. See {@link io.ferry.api.updates.UpdateCenter}; on the agent, {@link
 * io.ferry.api.updates.ApprovalRenewal} renews seal storage's approval after an update.
 */
@Export
@Version("1.1.0")
package io.ferry.api.updates;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
