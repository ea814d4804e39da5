/**
 * The device's TPM 2.0, as Ferry uses it: PCRs, the storage root key, the attestation key,
 * signing keys, sealing under policy sessions, quotes, certification, the endorsement key and
 * its certificate, credential activation and monotonic NV counters. One
 * {@link io.ferry.api.tpm.Tpm} service is registered per agent. Policy digests are computed
 * by the pure functions of {@link io.ferry.api.tpm.PolicyDigests}, which a verifier without a
 * TPM can use as well.
 */
@Export
@Version("1.0.0")
package io.ferry.api.tpm;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
