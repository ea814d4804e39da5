package io.ferry.api.seal;

import java.nio.charset.StandardCharsets;
import java.util.List;

import io.ferry.api.tpm.Pcr;
import io.ferry.api.tpm.PolicyDigests;
import io.ferry.api.tpm.PolicyStep;

/**
 * The approval scheme, as pure functions for the agent and the IT center alike.
 * <p>
 * The KEK's policy is {@code PolicyAuthorize(approvalKey, POLICY_REF)}. An approval of version
 * {@code v} authorizes the policy {@code PolicyPCR(pcrs = values) ; PolicyNV(counter <= v)}: the
 * TPM itself refuses it once its NV counter has moved past {@code v}. The approval key signs
 * {@code approvedPolicy || POLICY_REF} with SHA-256, so the signature is over exactly the
 * {@code aHash} that TPM2_VerifySignature and TPM2_PolicyAuthorize check.
 */
public final class Approvals {

    /** The policyRef of seal storage's KEK policy. */
    public static final byte[] POLICY_REF = "ferry-seal-kek-v1".getBytes(StandardCharsets.US_ASCII);

    private Approvals() {
    }

    /** The policy an approval of {@code version} authorizes. */
    public static byte[] approvedPolicy(List<Pcr> pcrs, byte[] counterName, long version) {
        return PolicyDigests.nv(PolicyDigests.pcr(PolicyDigests.empty(), pcrs), counterName,
                PolicyDigests.counterOperand(version), PolicyStep.NvComparison.UNSIGNED_LE);
    }

    /** What the approval key signs: {@code approvedPolicy || POLICY_REF}. */
    public static byte[] signedMessage(List<Pcr> pcrs, byte[] counterName, long version) {
        byte[] p = approvedPolicy(pcrs, counterName, version);
        byte[] m = new byte[p.length + POLICY_REF.length];
        System.arraycopy(p, 0, m, 0, p.length);
        System.arraycopy(POLICY_REF, 0, m, p.length, POLICY_REF.length);
        return m;
    }
}
