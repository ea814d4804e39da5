package io.ferry.api.seal;

import java.util.List;

import io.ferry.api.tpm.Pcr;

/**
 * What the IT center needs to approve a platform state for one agent's seal storage.
 *
 * @param pcrs the PCRs of the policy with their current values
 * @param counterIndex the TPM NV counter holding the newest approval version seen
 * @param counterName that counter's TPM name (bound into every approval)
 * @param minimumVersion the lowest version a new approval may carry (the counter's value)
 */
public record ApprovalRequest(List<Pcr> pcrs, int counterIndex, byte[] counterName, long minimumVersion) {

    public ApprovalRequest {
        pcrs = List.copyOf(pcrs);
        counterName = counterName.clone();
    }

    @Override
    public byte[] counterName() {
        return counterName.clone();
    }

    /** The bytes the approval key signs for these PCR values at that version. */
    public byte[] signedMessage(long version) {
        return Approvals.signedMessage(pcrs, counterName, version);
    }
}
