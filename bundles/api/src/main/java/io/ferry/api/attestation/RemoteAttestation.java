package io.ferry.api.attestation;

import java.time.Duration;
import java.util.Optional;
import java.util.function.Consumer;

import org.osgi.annotation.versioning.ProviderType;

import io.ferry.api.channel.AgentAddress;

/**
 * The agent's attestation through its IT center (the paper's "build a trustworthy container"): a fresh
 * nonce from the IT center, evidence, the IT center's verdict; below the level asked for, the remediation
 * it names is installed, the agent measures and attests again.
 */
@ProviderType
public interface RemoteAttestation {

    /**
     * Attests this agent now.
     *
     * @param requiredLevel the level to reach, or null for a verdict only (no remediation)
     * @param maxRounds how many attestations at most (1 = no remediation)
     * @param progress told each step, one sentence each
     * @return the last result, and why it gave up when it does not qualify (rounds exhausted, nothing
     *         a feature can fix, installing changed nothing)
     * @throws AttestationException when the IT center cannot be reached, the TPM fails or installing fails
     */
    AttestationOutcome attest(String requiredLevel, int maxRounds, Consumer<String> progress);

    /** This agent's latest verdict as the IT center recorded it, if any. */
    Optional<AttestationResult> latest();

    /**
     * A fresh verdict on another agent: opens a channel to it and has it attest over that channel
     * ({@link PeerAttestation#attestPeer}), judged by the IT center.
     *
     * @throws AttestationException naming the peer and what failed
     */
    Verdict verifyPeer(AgentAddress peer, Duration timeout);
}
