/**
 * Reliable checkpoints: a running VM's memory, CPU and disk, taken at one instant, compressed,
 * encrypted and shipped to a backup agent, which applies a checkpoint only when it is complete and
 * verified and resumes the VM from the latest one when the primary is gone, after the IT center
 * (the witness) moved the VM's lease to it.
 */
@Export
@Version("1.0.0")
package io.ferry.api.checkpoint;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
