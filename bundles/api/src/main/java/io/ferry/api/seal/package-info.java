/**
 * Seal storage: named secrets encrypted under a key-encryption key that the TPM releases only
 * to a platform in a state approved by the IT center. See {@link io.ferry.api.seal.SealStorage}
 * and, for the IT center's side, {@link io.ferry.api.seal.Approvals}.
 */
@Export
@Version("1.1.0")
package io.ferry.api.seal;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
