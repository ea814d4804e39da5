/**
 * Attestation: what an agent measured (the {@link io.ferry.api.attestation.MeasurementEntry measurement log}),
 * the {@link io.ferry.api.attestation.Evidence} it sends for a nonce, the
 * {@link io.ferry.api.attestation.ReferenceValue reference values} and
 * {@link io.ferry.api.attestation.AppraisalPolicy appraisal policy} a verifier judges it by, and the
 * {@link io.ferry.api.attestation.Verdict}. The agent side is the {@link io.ferry.api.attestation.Measurer}
 * and {@link io.ferry.api.attestation.Attester} services, {@link io.ferry.api.attestation.RemoteAttestation}
 * (attestation through the IT center, with {@link io.ferry.api.attestation.Remediation}) and
 * {@link io.ferry.api.attestation.PeerAttestation}; the IT center's side is
 * {@link io.ferry.api.attestation.Attestations}; the verifier is a pure function (bundle
 * {@code io.ferry.attestation.verifier}). Value types are immutable and validate their input: a value
 * that exists is well-formed, whatever machine its bytes came from.
 */
@Export
@Version("1.3.0")
package io.ferry.api.attestation;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
