package io.ferry.tpm.internal;

import java.math.BigInteger;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.util.HexFormat;

import tss.tpm.TPM2B_DIGEST_KEYEDHASH;
import tss.tpm.TPM2B_PUBLIC_KEY_RSA;
import tss.tpm.TPMA_OBJECT;
import tss.tpm.TPMS_ECC_PARMS;
import tss.tpm.TPMS_ECC_POINT;
import tss.tpm.TPMS_KEYEDHASH_PARMS;
import tss.tpm.TPMS_NULL_ASYM_SCHEME;
import tss.tpm.TPMS_NULL_KDF_SCHEME;
import tss.tpm.TPMS_NULL_SCHEME_KEYEDHASH;
import tss.tpm.TPMS_RSA_PARMS;
import tss.tpm.TPMS_SIG_SCHEME_ECDSA;
import tss.tpm.TPMS_SIG_SCHEME_RSASSA;
import tss.tpm.TPMT_PUBLIC;
import tss.tpm.TPMT_SYM_DEF_OBJECT;
import tss.tpm.TPM_ALG_ID;
import tss.tpm.TPM_ECC_CURVE;

import io.ferry.api.tpm.TpmPublic;

/**
 * The key templates Ferry creates. They are part of the on-disk format: a sealed object's
 * policy names the authorizing key by the TPM name of {@link #external}, so these must not change.
 */
final class Templates {

    /** The TCG default EK policy: PolicySecret(TPM_RH_ENDORSEMENT). */
    static final byte[] EK_POLICY = HexFormat.of()
            .parseHex("837197674484b3f81a90cc8d46a5d724fd52d76e06520b64f2a1da1b331469aa");

    private Templates() {
    }

    /** The storage root key: ECC P-256, restricted decryption, AES-128-CFB, noDA. */
    static TPMT_PUBLIC srk() {
        return new TPMT_PUBLIC(TPM_ALG_ID.SHA256,
                new TPMA_OBJECT(TPMA_OBJECT.fixedTPM, TPMA_OBJECT.fixedParent, TPMA_OBJECT.sensitiveDataOrigin,
                        TPMA_OBJECT.userWithAuth, TPMA_OBJECT.noDA, TPMA_OBJECT.restricted, TPMA_OBJECT.decrypt),
                new byte[0],
                new TPMS_ECC_PARMS(new TPMT_SYM_DEF_OBJECT(TPM_ALG_ID.AES, 128, TPM_ALG_ID.CFB),
                        new TPMS_NULL_ASYM_SCHEME(), TPM_ECC_CURVE.NIST_P256, new TPMS_NULL_KDF_SCHEME()),
                new TPMS_ECC_POINT(new byte[0], new byte[0]));
    }

    /** The attestation key: ECC P-256, restricted signing with ECDSA-SHA256, noDA. */
    static TPMT_PUBLIC ak() {
        return new TPMT_PUBLIC(TPM_ALG_ID.SHA256,
                new TPMA_OBJECT(TPMA_OBJECT.fixedTPM, TPMA_OBJECT.fixedParent, TPMA_OBJECT.sensitiveDataOrigin,
                        TPMA_OBJECT.userWithAuth, TPMA_OBJECT.noDA, TPMA_OBJECT.restricted, TPMA_OBJECT.sign),
                new byte[0],
                new TPMS_ECC_PARMS(TPMT_SYM_DEF_OBJECT.nullObject(), new TPMS_SIG_SCHEME_ECDSA(TPM_ALG_ID.SHA256),
                        TPM_ECC_CURVE.NIST_P256, new TPMS_NULL_KDF_SCHEME()),
                new TPMS_ECC_POINT(new byte[0], new byte[0]));
    }

    /** A general signing key: ECC P-256, ECDSA-SHA256, noDA, empty password. */
    static TPMT_PUBLIC signingKey() {
        return new TPMT_PUBLIC(TPM_ALG_ID.SHA256,
                new TPMA_OBJECT(TPMA_OBJECT.fixedTPM, TPMA_OBJECT.fixedParent, TPMA_OBJECT.sensitiveDataOrigin,
                        TPMA_OBJECT.userWithAuth, TPMA_OBJECT.noDA, TPMA_OBJECT.sign),
                new byte[0],
                new TPMS_ECC_PARMS(TPMT_SYM_DEF_OBJECT.nullObject(), new TPMS_SIG_SCHEME_ECDSA(TPM_ALG_ID.SHA256),
                        TPM_ECC_CURVE.NIST_P256, new TPMS_NULL_KDF_SCHEME()),
                new TPMS_ECC_POINT(new byte[0], new byte[0]));
    }

    /** The TCG EK template L-1 (RSA 2048), as swtpm_setup and tpm2_createek make it. */
    static TPMT_PUBLIC ek() {
        return new TPMT_PUBLIC(TPM_ALG_ID.SHA256,
                new TPMA_OBJECT(TPMA_OBJECT.fixedTPM, TPMA_OBJECT.fixedParent, TPMA_OBJECT.sensitiveDataOrigin,
                        TPMA_OBJECT.adminWithPolicy, TPMA_OBJECT.restricted, TPMA_OBJECT.decrypt),
                EK_POLICY,
                new TPMS_RSA_PARMS(new TPMT_SYM_DEF_OBJECT(TPM_ALG_ID.AES, 128, TPM_ALG_ID.CFB),
                        new TPMS_NULL_ASYM_SCHEME(), 2048, 0),
                new TPM2B_PUBLIC_KEY_RSA(new byte[256]));
    }

    /** A sealed data object that only a policy session with that digest can unseal; noDA. */
    static TPMT_PUBLIC sealed(byte[] policyDigest) {
        return new TPMT_PUBLIC(TPM_ALG_ID.SHA256,
                new TPMA_OBJECT(TPMA_OBJECT.fixedTPM, TPMA_OBJECT.fixedParent, TPMA_OBJECT.noDA),
                policyDigest,
                new TPMS_KEYEDHASH_PARMS(new TPMS_NULL_SCHEME_KEYEDHASH()),
                new TPM2B_DIGEST_KEYEDHASH(new byte[0]));
    }

    /** An external verification key (public only): EC P-256 with ECDSA-SHA256 or RSA with RSASSA-SHA256. */
    static TPMT_PUBLIC external(PublicKey key) {
        TPMA_OBJECT attrs = new TPMA_OBJECT(TPMA_OBJECT.userWithAuth, TPMA_OBJECT.noDA, TPMA_OBJECT.sign);
        if (key instanceof ECPublicKey ec) {
            if (ec.getParams().getCurve().getField().getFieldSize() != 256) {
                throw new IllegalArgumentException("only EC P-256 keys are supported, not " + ec.getParams());
            }
            return new TPMT_PUBLIC(TPM_ALG_ID.SHA256, attrs, new byte[0],
                    new TPMS_ECC_PARMS(TPMT_SYM_DEF_OBJECT.nullObject(), new TPMS_SIG_SCHEME_ECDSA(TPM_ALG_ID.SHA256),
                            TPM_ECC_CURVE.NIST_P256, new TPMS_NULL_KDF_SCHEME()),
                    new TPMS_ECC_POINT(unsigned(ec.getW().getAffineX(), 32), unsigned(ec.getW().getAffineY(), 32)));
        }
        if (key instanceof RSAPublicKey rsa) {
            int bits = rsa.getModulus().bitLength();
            int exponent = rsa.getPublicExponent().intValueExact();
            return new TPMT_PUBLIC(TPM_ALG_ID.SHA256, attrs, new byte[0],
                    new TPMS_RSA_PARMS(TPMT_SYM_DEF_OBJECT.nullObject(), new TPMS_SIG_SCHEME_RSASSA(TPM_ALG_ID.SHA256),
                            bits, exponent == 65537 ? 0 : exponent),
                    new TPM2B_PUBLIC_KEY_RSA(unsigned(rsa.getModulus(), bits / 8)));
        }
        throw new IllegalArgumentException("unsupported key type " + key.getAlgorithm() + " (EC P-256 or RSA)");
    }

    /** The TpmPublic (name and JCA key) of a public area. */
    static TpmPublic toPublic(TPMT_PUBLIC pub) {
        return new TpmPublic(pub.toBytes(), pub.getName(), javaKey(pub));
    }

    static PublicKey javaKey(TPMT_PUBLIC pub) {
        try {
            if (pub.unique instanceof TPMS_ECC_POINT p) {
                AlgorithmParameters params = AlgorithmParameters.getInstance("EC");
                params.init(new ECGenParameterSpec("secp256r1"));
                ECParameterSpec spec = params.getParameterSpec(ECParameterSpec.class);
                return KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(
                        new ECPoint(new BigInteger(1, p.x), new BigInteger(1, p.y)), spec));
            }
            if (pub.unique instanceof TPM2B_PUBLIC_KEY_RSA r) {
                int e = ((TPMS_RSA_PARMS) pub.parameters).exponent;
                return KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(
                        new BigInteger(1, r.buffer), BigInteger.valueOf(e == 0 ? 65537 : e)));
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot convert the TPM public key: " + e.getMessage(), e);
        }
        throw new IllegalArgumentException("not an ECC or RSA public area: " + pub.type());
    }

    static byte[] unsigned(BigInteger v, int length) {
        byte[] b = v.toByteArray();
        if (b.length == length) {
            return b;
        }
        byte[] out = new byte[length];
        if (b.length > length) {
            System.arraycopy(b, b.length - length, out, 0, length);
        } else {
            System.arraycopy(b, 0, out, length - b.length, b.length);
        }
        return out;
    }
}
