/**
 * Enrolment: how an agent gets its identity at the IT center. The agent's side
 * ({@link io.ferry.api.enrolment.AgentEnrolment}) proves with its TPM that its attestation key and its TLS key
 * live on one attested platform; the IT center's side ({@link io.ferry.api.enrolment.Invitations}) authorises
 * an enrolment with a single-use token.
 */
@Export
@Version("1.0.0")
package io.ferry.api.enrolment;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
