package io.ferry.api.updates;

import java.util.function.Consumer;

import org.osgi.annotation.versioning.ProviderType;

import io.ferry.api.seal.Approval;

/**
 * The agent's renewal of its seal-storage approval after a legitimate change of its measured state (an
 * update the IT center pushed): it attests afresh through the IT center, so that the IT center's latest
 * verdict proves the current PCR values, asks the IT center to sign an approval for exactly those values
 * ({@code POST /api/v1/approvals}), checks it and installs it in seal storage. The IT center signs only
 * PCR values its latest genuine verdict for this agent proved, at a high enough level.
 */
@ProviderType
public interface ApprovalRenewal {

    /**
     * Renews the approval now.
     *
     * @param progress told each step, one sentence each
     * @return the installed approval
     * @throws IllegalStateException when a part is missing (no IT center link, not enrolled, no seal storage,
     *         no attestation) or a step fails, naming the step and why
     */
    Approval renew(Consumer<String> progress);
}
