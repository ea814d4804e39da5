package io.ferry.tpm.internal;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;

import tss.tpm.TPMS_SIGNATURE_ECDSA;
import tss.tpm.TPMS_SIGNATURE_RSASSA;
import tss.tpm.TPMU_SIGNATURE;
import tss.tpm.TPM_ALG_ID;

/** Between JCA signatures (DER ECDSA, PKCS#1 v1.5) and TPM signatures. */
final class Signatures {

    private Signatures() {
    }

    static TPMU_SIGNATURE toTpm(PublicKey key, byte[] jca) {
        if (key instanceof ECPublicKey) {
            BigInteger[] rs = decodeDer(jca);
            return new TPMS_SIGNATURE_ECDSA(TPM_ALG_ID.SHA256, Templates.unsigned(rs[0], 32),
                    Templates.unsigned(rs[1], 32));
        }
        return new TPMS_SIGNATURE_RSASSA(TPM_ALG_ID.SHA256, jca);
    }

    static byte[] toDer(TPMU_SIGNATURE sig) {
        if (sig instanceof TPMS_SIGNATURE_ECDSA ec) {
            return encodeDer(new BigInteger(1, ec.signatureR), new BigInteger(1, ec.signatureS));
        }
        if (sig instanceof TPMS_SIGNATURE_RSASSA rsa) {
            return rsa.sig.clone();
        }
        throw new IllegalArgumentException("unsupported TPM signature " + sig.getClass().getSimpleName());
    }

    static BigInteger[] decodeDer(byte[] der) {
        try {
            int[] pos = { 0 };
            expect(der, pos, 0x30);
            int seqLen = length(der, pos);
            if (pos[0] + seqLen != der.length) {
                throw new IllegalArgumentException("length mismatch");
            }
            BigInteger r = integer(der, pos);
            BigInteger s = integer(der, pos);
            if (pos[0] != der.length) {
                throw new IllegalArgumentException("trailing bytes");
            }
            return new BigInteger[] { r, s };
        } catch (ArrayIndexOutOfBoundsException e) {
            throw new IllegalArgumentException("not a DER ECDSA signature: truncated", e);
        }
    }

    static byte[] encodeDer(BigInteger r, BigInteger s) {
        byte[] rb = r.toByteArray();
        byte[] sb = s.toByteArray();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(0x02);
        writeLength(body, rb.length);
        body.writeBytes(rb);
        body.write(0x02);
        writeLength(body, sb.length);
        body.writeBytes(sb);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0x30);
        writeLength(out, body.size());
        out.writeBytes(body.toByteArray());
        return out.toByteArray();
    }

    private static void writeLength(ByteArrayOutputStream out, int len) {
        if (len < 128) {
            out.write(len);
        } else {
            out.write(0x81);
            out.write(len);
        }
    }

    private static void expect(byte[] der, int[] pos, int tag) {
        if ((der[pos[0]++] & 0xff) != tag) {
            throw new IllegalArgumentException("not a DER ECDSA signature: tag");
        }
    }

    private static int length(byte[] der, int[] pos) {
        int b = der[pos[0]++] & 0xff;
        if (b < 128) {
            return b;
        }
        if (b == 0x81) {
            return der[pos[0]++] & 0xff;
        }
        throw new IllegalArgumentException("not a DER ECDSA signature: length");
    }

    private static BigInteger integer(byte[] der, int[] pos) {
        expect(der, pos, 0x02);
        int len = length(der, pos);
        byte[] v = java.util.Arrays.copyOfRange(der, pos[0], pos[0] + len);
        if (v.length != len) {
            throw new IllegalArgumentException("not a DER ECDSA signature: truncated integer");
        }
        pos[0] += len;
        return new BigInteger(1, v);
    }
}
