package io.ferry.api.tpm;

import java.security.PublicKey;
import java.util.List;

/** One assertion of a policy session, in the order the session runs them. */
public sealed interface PolicyStep {

    /** TPM2_PolicyPCR over the current values of the given SHA-256 PCRs. */
    record PolicyPcr(List<Integer> pcrs) implements PolicyStep {
        public PolicyPcr {
            pcrs = List.copyOf(pcrs);
        }
    }

    /**
     * TPM2_PolicyNV: the NV index's contents at offset 0 compared to {@code operand}
     * ({@code nvContents <op> operand}, unsigned big-endian).
     */
    record PolicyNv(int nvIndex, byte[] operand, NvComparison comparison) implements PolicyStep {
        public PolicyNv {
            operand = operand.clone();
        }

        @Override
        public byte[] operand() {
            return operand.clone();
        }
    }

    /**
     * TPM2_PolicyAuthorize: replaces the session's digest by the authorize policy of
     * {@code key}, if {@code signature} (JCA format: DER ECDSA or PKCS#1 v1.5, over
     * SHA-256(approvedPolicy || policyRef)) verifies with that key and the session's digest
     * equals {@code approvedPolicy}.
     */
    record PolicyAuthorize(PublicKey key, byte[] policyRef, byte[] approvedPolicy, byte[] signature)
            implements PolicyStep {
        public PolicyAuthorize {
            policyRef = policyRef.clone();
            approvedPolicy = approvedPolicy.clone();
            signature = signature.clone();
        }

        @Override
        public byte[] policyRef() {
            return policyRef.clone();
        }

        @Override
        public byte[] approvedPolicy() {
            return approvedPolicy.clone();
        }

        @Override
        public byte[] signature() {
            return signature.clone();
        }
    }

    /** The comparisons of PolicyNV that Ferry uses. */
    enum NvComparison {
        EQ, UNSIGNED_LE, UNSIGNED_GE
    }
}
