/**
 * The one JSON encoding of attestation messages, used by the agent (to send evidence) and by the IT center
 * (to judge it): {@link io.ferry.attestation.wire.AttestationJson} reads and writes evidence, verdicts,
 * remediations and the nonce and verdict requests of {@code /api/v1/attestation}, strictly (unknown or
 * duplicate fields, missing fields, wrong types, oversized documents and trailing content are refused, with
 * the field named). The peer-attestation exchange on a channel carries the same evidence encoding inside
 * {@link io.ferry.attestation.wire.PeerFrames}.
 */
@Export
@Version("1.0.0")
package io.ferry.attestation.wire;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
