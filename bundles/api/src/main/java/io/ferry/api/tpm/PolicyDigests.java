package io.ferry.api.tpm;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.TreeSet;

/**
 * Policy digests as the TPM computes them (TPM 2.0 Part 3, the policy commands), SHA-256 only.
 * Pure functions: a verifier without a TPM computes the same digests the agent's TPM will.
 */
public final class PolicyDigests {

    private static final int TPM_CC_POLICY_NV = 0x149;
    private static final int TPM_CC_POLICY_AUTHORIZE = 0x16A;
    private static final int TPM_CC_POLICY_PCR = 0x17F;
    private static final int TPM_ALG_SHA256 = 0x000B;

    private PolicyDigests() {
    }

    /** The digest every policy session starts from: 32 zero bytes. */
    public static byte[] empty() {
        return new byte[32];
    }

    /**
     * TPM2_PolicyPCR with the given SHA-256 PCR values.
     *
     * @param pcrs the PCRs and their expected values; the TPM orders them by index
     */
    public static byte[] pcr(byte[] previous, List<Pcr> pcrs) {
        TreeSet<Integer> indexes = new TreeSet<>();
        pcrs.forEach(p -> indexes.add(p.index()));
        if (indexes.size() != pcrs.size()) {
            throw new IllegalArgumentException("a PCR is listed twice: " + pcrs);
        }
        ByteArrayOutputStream values = new ByteArrayOutputStream();
        pcrs.stream().sorted(java.util.Comparator.comparingInt(Pcr::index)).forEach(p -> values.writeBytes(p.value()));
        byte[] pcrDigest = sha256(values.toByteArray());
        return sha256(previous, ByteBuffer.allocate(4).putInt(TPM_CC_POLICY_PCR).array(),
                pcrSelection(indexes), pcrDigest);
    }

    /** TPM2_PolicyNV against the NV index of that name, offset 0. */
    public static byte[] nv(byte[] previous, byte[] nvName, byte[] operand, PolicyStep.NvComparison comparison) {
        byte[] args = sha256(operand, ByteBuffer.allocate(4).putShort((short) 0)
                .putShort((short) operation(comparison)).array());
        return sha256(previous, ByteBuffer.allocate(4).putInt(TPM_CC_POLICY_NV).array(), args, nvName);
    }

    /** TPM2_PolicyAuthorize by the key of that TPM name with that policyRef (the previous digest is replaced). */
    public static byte[] authorize(byte[] keyName, byte[] policyRef) {
        byte[] d = sha256(empty(), ByteBuffer.allocate(4).putInt(TPM_CC_POLICY_AUTHORIZE).array(), keyName);
        return sha256(d, policyRef);
    }

    /** What the authorizing key signs for PolicyAuthorize: SHA-256(approvedPolicy || policyRef). */
    public static byte[] approvalHash(byte[] approvedPolicy, byte[] policyRef) {
        return sha256(approvedPolicy, policyRef);
    }

    /** An 8-byte unsigned big-endian operand for PolicyNV against a counter. */
    public static byte[] counterOperand(long value) {
        return ByteBuffer.allocate(8).putLong(value).array();
    }

    /** The marshalled TPML_PCR_SELECTION of one SHA-256 bank selection. */
    public static byte[] pcrSelection(java.util.Collection<Integer> indexes) {
        byte[] select = new byte[3];
        for (int i : indexes) {
            if (i < 0 || i > 23) {
                throw new IllegalArgumentException("no such PCR: " + i);
            }
            select[i / 8] |= (byte) (1 << (i % 8));
        }
        return ByteBuffer.allocate(10).putInt(1).putShort((short) TPM_ALG_SHA256).put((byte) 3).put(select).array();
    }

    static int operation(PolicyStep.NvComparison c) {
        return switch (c) {
            case EQ -> 0;
            case UNSIGNED_GE -> 7;
            case UNSIGNED_LE -> 9;
        };
    }

    static byte[] sha256(byte[]... parts) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (byte[] p : parts) {
                md.update(p);
            }
            return md.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
