/**
 * Secure live migration between agents: {@link io.ferry.api.migration.Migrations} moves a VM to
 * another agent after a policy decision, mutual peer attestation bound to the channel and a
 * run-time integrity check, with the whole VM state inside mutually authenticated TLS channels.
 * Refusals and failures are values ({@link io.ferry.api.migration.MigrationOutcome}) whose cause a
 * person understands.
 */
@Export
@Version("1.0.0")
package io.ferry.api.migration;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
