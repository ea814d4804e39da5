package io.ferry.attestation.verifier;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * A TPMS_ATTEST of type TPM_ST_ATTEST_QUOTE (TPM 2.0 Part 2, 10.12), parsed strictly: every size is
 * bounded by the structure's definition, every byte is accounted for, and anything else is refused with a
 * {@link MalformedEvidenceException} that names the field and offset. It is read from another machine's
 * bytes, so nothing is assumed. (TSS.Java's {@code TPMS_ATTEST.fromBytes} is not used: it is not bounded,
 * accepts trailing bytes and throws unchecked exceptions of its own.)
 *
 * @param qualifiedSigner the TPM name of the signing key
 * @param extraData the qualifying data the caller gave (Ferry: SHA-256(nonce || binding))
 * @param clock the TPM's clock (ms)
 * @param resetCount TPM resets since the TPM was cleared (a reboot increments it, so PCRs were reset)
 * @param restartCount TPM restarts since the last reset
 * @param safe whether the clock was not set back
 * @param firmwareVersion the TPM's firmware version
 * @param selections the quoted PCR selection, bank by bank
 * @param pcrDigest the digest of the quoted PCR values, in selection order
 */
public record TpmsAttest(byte[] qualifiedSigner, byte[] extraData, long clock, long resetCount, long restartCount,
        boolean safe, long firmwareVersion, List<Selection> selections, byte[] pcrDigest) {

    /** TPM_GENERATED_VALUE: the TPM puts it in front of everything it signs, and refuses to sign data that starts with it. */
    public static final long TPM_GENERATED = 0xFF544347L;
    public static final int TPM_ST_ATTEST_QUOTE = 0x8018;
    public static final int TPM_ALG_SHA256 = 0x000B;
    /** sizeof(TPMU_NAME) and sizeof(TPMT_HA): the largest digest (SHA-512) with its algorithm. */
    static final int MAX_NAME = 66;
    static final int MAX_DATA = 66;
    static final int MAX_DIGEST = 64;
    /** HASH_COUNT of the reference implementation: a selection lists at most that many banks. */
    static final int MAX_BANKS = 16;
    /** A PCR bitmap of 24 PCRs has 3 bytes; the TPM may use up to 4 (PCR_SELECT_MAX). */
    static final int MAX_SELECT = 4;

    public TpmsAttest {
        qualifiedSigner = qualifiedSigner.clone();
        extraData = extraData.clone();
        selections = List.copyOf(selections);
        pcrDigest = pcrDigest.clone();
    }

    @Override
    public byte[] qualifiedSigner() {
        return qualifiedSigner.clone();
    }

    @Override
    public byte[] extraData() {
        return extraData.clone();
    }

    @Override
    public byte[] pcrDigest() {
        return pcrDigest.clone();
    }

    /**
     * One bank of a TPML_PCR_SELECTION.
     *
     * @param hashAlg the bank's algorithm (TPM_ALG_ID, e.g. {@value TpmsAttest#TPM_ALG_SHA256})
     * @param pcrs the selected PCR indexes, increasing
     */
    public record Selection(int hashAlg, List<Integer> pcrs) {
        public Selection {
            pcrs = List.copyOf(pcrs);
        }
    }

    /**
     * Parses a marshalled TPMS_ATTEST of a quote.
     *
     * @throws NotAQuoteException when the magic or type says it is not a TPM-generated quote
     * @throws MalformedEvidenceException when it is truncated, oversized or malformed
     */
    public static TpmsAttest parse(byte[] attest) {
        if (attest == null || attest.length == 0) {
            throw new MalformedEvidenceException("TPMS_ATTEST is empty");
        }
        if (attest.length > io.ferry.api.attestation.Evidence.MAX_ATTEST_BYTES) {
            throw new MalformedEvidenceException("TPMS_ATTEST has " + attest.length + " bytes, more than "
                    + io.ferry.api.attestation.Evidence.MAX_ATTEST_BYTES);
        }
        Reader r = new Reader("TPMS_ATTEST", attest);
        long magic = r.u32("magic");
        if (magic != TPM_GENERATED) {
            throw new NotAQuoteException(String.format(
                    "TPMS_ATTEST: magic is 0x%08x, not TPM_GENERATED_VALUE 0xff544347: not made by a TPM", magic));
        }
        int type = r.u16("type");
        if (type != TPM_ST_ATTEST_QUOTE) {
            throw new NotAQuoteException(String.format(
                    "TPMS_ATTEST: type is 0x%04x, not TPM_ST_ATTEST_QUOTE 0x8018: not a quote", type));
        }
        byte[] signer = r.tpm2b("qualifiedSigner", MAX_NAME);
        byte[] extra = r.tpm2b("extraData", MAX_DATA);
        long clock = r.u64("clockInfo.clock");
        long resetCount = r.u32("clockInfo.resetCount");
        long restartCount = r.u32("clockInfo.restartCount");
        int safe = r.u8("clockInfo.safe");
        if (safe > 1) {
            throw r.bad("clockInfo.safe is " + safe + ", not YES (1) or NO (0)");
        }
        long firmware = r.u64("firmwareVersion");
        long count = r.u32("pcrSelect.count");
        if (count > MAX_BANKS) {
            throw r.bad("pcrSelect lists " + count + " banks, more than " + MAX_BANKS);
        }
        List<Selection> selections = new ArrayList<>();
        TreeSet<Integer> banks = new TreeSet<>();
        for (int i = 0; i < count; i++) {
            int alg = r.u16("pcrSelections[" + i + "].hash");
            if (!banks.add(alg)) {
                throw r.bad(String.format("pcrSelect lists bank 0x%04x twice", alg));
            }
            int size = r.u8("pcrSelections[" + i + "].sizeofSelect");
            if (size > MAX_SELECT) {
                throw r.bad("pcrSelections[" + i + "].sizeofSelect is " + size + ", more than " + MAX_SELECT);
            }
            byte[] bitmap = r.bytes("pcrSelections[" + i + "].pcrSelect", size);
            List<Integer> pcrs = new ArrayList<>();
            for (int bit = 0; bit < size * 8; bit++) {
                if ((bitmap[bit / 8] & (1 << (bit % 8))) != 0) {
                    if (bit > 23) {
                        throw r.bad("pcrSelections[" + i + "] selects PCR " + bit + " (there are 24, 0 to 23)");
                    }
                    pcrs.add(bit);
                }
            }
            selections.add(new Selection(alg, pcrs));
        }
        byte[] digest = r.tpm2b("pcrDigest", MAX_DIGEST);
        r.end();
        return new TpmsAttest(signer, extra, clock, resetCount, restartCount, safe == 1, firmware, selections, digest);
    }
}
