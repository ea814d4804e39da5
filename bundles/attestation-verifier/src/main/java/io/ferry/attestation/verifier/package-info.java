/**
 * The attestation verifier as pure functions: {@link io.ferry.attestation.verifier.Verifier#verify} judges
 * {@link io.ferry.api.attestation.Evidence} against an {@link io.ferry.attestation.verifier.Expectation}
 * (enrolled attestation key, nonce, binding), an appraisal policy and reference values, with JCA only and no
 * TPM; {@link io.ferry.attestation.verifier.TpmsAttest} and {@link io.ferry.attestation.verifier.TpmSignature}
 * are strict, bounds-checked parsers of the bytes another machine sent; {@link
 * io.ferry.attestation.verifier.BundleDigest} is how a bundle's content is measured, for the agent and for
 * whoever publishes reference values. Exported for the IT center and the agent.
 */
@Export
@Version("1.0.0")
package io.ferry.attestation.verifier;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
