package io.ferry.api.enrolment;

import java.util.function.Consumer;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The agent's side of enrolment: the EK certificate and the attestation key go to the IT center, the
 * TPM proves with ActivateCredential that both are its own, a quote by that key over SHA-256 of a new
 * TLS public key proves the TLS key came from the attested platform, and the IT center's certificate
 * for that key is stored with the key in seal storage.
 */
@ProviderType
public interface AgentEnrolment {

    /**
     * Enrols this agent at an IT center.
     *
     * @param progress receives one line per step, for the console
     * @throws EnrolmentException when the IT center refuses, cannot be trusted or reached, or the TPM or
     *         seal storage fails; nothing is stored then
     */
    EnrolmentStatus enrol(EnrolmentRequest request, Consumer<String> progress);

    /** Whether and how this agent is enrolled. */
    EnrolmentStatus status();
}
