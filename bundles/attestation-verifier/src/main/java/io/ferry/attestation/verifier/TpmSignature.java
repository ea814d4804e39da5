package io.ferry.attestation.verifier;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;

/**
 * A TPMT_SIGNATURE (TPM 2.0 Part 2, 11.3.4) as JCA verifies it. Only what an attestation key makes is
 * accepted: ECDSA or RSASSA (PKCS#1 v1.5), both with SHA-256.
 *
 * @param jcaAlgorithm {@code SHA256withECDSA} or {@code SHA256withRSA}
 * @param jcaSignature the signature in JCA's encoding (DER for ECDSA)
 */
public record TpmSignature(String jcaAlgorithm, byte[] jcaSignature) {

    public static final int TPM_ALG_RSASSA = 0x0014;
    public static final int TPM_ALG_ECDSA = 0x0018;

    public TpmSignature {
        jcaSignature = jcaSignature.clone();
    }

    @Override
    public byte[] jcaSignature() {
        return jcaSignature.clone();
    }

    /** @throws MalformedEvidenceException when it is not a well-formed ECDSA or RSASSA signature with SHA-256 */
    public static TpmSignature parse(byte[] signature) {
        if (signature == null || signature.length == 0) {
            throw new MalformedEvidenceException("TPMT_SIGNATURE is empty");
        }
        Reader r = new Reader("TPMT_SIGNATURE", signature);
        int alg = r.u16("sigAlg");
        if (alg != TPM_ALG_ECDSA && alg != TPM_ALG_RSASSA) {
            throw r.bad(String.format("sigAlg is 0x%04x; an attestation key signs with ECDSA (0x0018) or RSASSA (0x0014)", alg));
        }
        int hash = r.u16("hash");
        if (hash != TpmsAttest.TPM_ALG_SHA256) {
            throw r.bad(String.format("hash is 0x%04x, not SHA-256 (0x000b)", hash));
        }
        if (alg == TPM_ALG_ECDSA) {
            byte[] rr = r.tpm2b("signatureR", 66);
            byte[] ss = r.tpm2b("signatureS", 66);
            r.end();
            if (rr.length == 0 || ss.length == 0) {
                throw r.bad("an ECDSA signature with an empty R or S");
            }
            return new TpmSignature("SHA256withECDSA", der(new BigInteger(1, rr), new BigInteger(1, ss)));
        }
        byte[] sig = r.tpm2b("sig", 512);
        r.end();
        if (sig.length == 0) {
            throw r.bad("an empty RSA signature");
        }
        return new TpmSignature("SHA256withRSA", sig);
    }

    static byte[] der(BigInteger r, BigInteger s) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        integer(body, r);
        integer(body, s);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0x30);
        length(out, body.size());
        out.writeBytes(body.toByteArray());
        return out.toByteArray();
    }

    private static void integer(ByteArrayOutputStream out, BigInteger v) {
        byte[] b = v.toByteArray();
        out.write(0x02);
        length(out, b.length);
        out.writeBytes(b);
    }

    private static void length(ByteArrayOutputStream out, int len) {
        if (len < 128) {
            out.write(len);
        } else {
            out.write(0x81);
            out.write(len);
        }
    }
}
