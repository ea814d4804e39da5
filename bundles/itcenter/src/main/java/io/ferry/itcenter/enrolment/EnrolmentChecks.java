package io.ferry.itcenter.enrolment;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import io.ferry.attestation.verifier.Expectation;
import io.ferry.attestation.verifier.MalformedEvidenceException;
import io.ferry.attestation.verifier.TpmSignature;
import io.ferry.attestation.verifier.TpmsAttest;
import tss.Tss;
import tss.tpm.TPMA_OBJECT;
import tss.tpm.TPMS_ECC_PARMS;
import tss.tpm.TPMS_ECC_POINT;
import tss.tpm.TPMS_RSA_PARMS;
import tss.tpm.TPMT_PUBLIC;
import tss.tpm.TPM2B_PUBLIC_KEY_RSA;
import tss.tpm.TPM_ALG_ID;
import tss.tpm.TPM_ECC_CURVE;

/**
 * The IT center's checks of an enrolling platform, as functions of the bytes the agent sent and the
 * configured TPM vendor CAs (JCA, BouncyCastle through TSS.Java's MakeCredential, no TPM). Each refusal
 * is an {@link EnrolmentRefused} naming what failed.
 */
final class EnrolmentChecks {

    /** Largest TPMT_PUBLIC accepted (an RSA-4096 key with a policy is about 600 bytes). */
    static final int MAX_PUBLIC_AREA = 1024;
    static final int MAX_EK_CERTIFICATE = 4096;

    private static final int FIXED_TPM = TPMA_OBJECT.fixedTPM.toInt();
    private static final int FIXED_PARENT = TPMA_OBJECT.fixedParent.toInt();
    private static final int SENSITIVE_ORIGIN = TPMA_OBJECT.sensitiveDataOrigin.toInt();
    private static final int RESTRICTED = TPMA_OBJECT.restricted.toInt();
    private static final int DECRYPT = TPMA_OBJECT.decrypt.toInt();
    private static final int SIGN = TPMA_OBJECT.sign.toInt();

    private EnrolmentChecks() {
    }

    /** An attestation key as the IT center records it. */
    record AttestationKey(byte[] publicArea, byte[] name, PublicKey key) {
    }

    /** The TPM vendor CAs: every certificate (PEM or DER) in a folder is a trust anchor for EK certificates. */
    static List<X509Certificate> loadVendorCas(Path dir) {
        List<X509Certificate> cas = new ArrayList<>();
        if (dir == null || !Files.isDirectory(dir)) {
            return cas;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.{pem,crt,cer,der}")) {
            CertificateFactory f = CertificateFactory.getInstance("X.509");
            for (Path file : files) {
                try (InputStream in = Files.newInputStream(file)) {
                    for (var c : f.generateCertificates(in)) {
                        cas.add((X509Certificate) c);
                    }
                } catch (CertificateException e) {
                    throw new IllegalStateException("not a certificate: " + file + " (" + e.getMessage() + ")", e);
                }
            }
        } catch (IOException | CertificateException e) {
            throw new IllegalStateException("cannot read the TPM vendor CAs in " + dir + ": " + e.getMessage(), e);
        }
        return cas;
    }

    /**
     * The EK certificate, once its chain verifies up to one of the vendor CAs (PKIX: signatures, validity,
     * CA constraints; vendors publish no revocation that an offline IT center could consult).
     */
    static X509Certificate ekCertificate(byte[] der, List<X509Certificate> vendorCas, Date at) {
        if (der == null || der.length == 0 || der.length > MAX_EK_CERTIFICATE) {
            throw new EnrolmentRefused("ek", "the EK certificate is missing or larger than " + MAX_EK_CERTIFICATE + " bytes");
        }
        X509Certificate ek;
        try {
            ek = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der));
        } catch (CertificateException | RuntimeException e) {
            throw new EnrolmentRefused("ek", "the EK certificate is not an X.509 certificate: " + e.getMessage());
        }
        if (vendorCas.isEmpty()) {
            throw new EnrolmentRefused("ek", "no TPM vendor CA is configured, so no EK certificate can be trusted");
        }
        Set<TrustAnchor> anchors = new HashSet<>();
        for (X509Certificate ca : vendorCas) {
            anchors.add(new TrustAnchor(ca, null));
        }
        try {
            CertificateFactory f = CertificateFactory.getInstance("X.509");
            PKIXParameters p = new PKIXParameters(anchors);
            p.setRevocationEnabled(false);
            p.setDate(at);
            CertPathValidator.getInstance("PKIX").validate(f.generateCertPath(List.of(ek)), p);
        } catch (GeneralSecurityException e) {
            throw new EnrolmentRefused("ek", "the EK certificate of " + ek.getIssuerX500Principal().getName()
                    + " does not chain to a trusted TPM vendor CA: " + e.getMessage());
        }
        if (!(ek.getPublicKey() instanceof RSAPublicKey) && !ek.getPublicKey().getAlgorithm().equals("EC")) {
            throw new EnrolmentRefused("ek", "the EK certificate's key is neither RSA nor EC");
        }
        return ek;
    }

    /** The EK's TPMT_PUBLIC, checked to be the certified key as a restricted decryption key of a TPM. */
    static TPMT_PUBLIC ekPublic(byte[] publicArea, X509Certificate ekCertificate) {
        TPMT_PUBLIC pub = publicArea(publicArea, "EK");
        int attrs = pub.objectAttributes.toInt();
        if ((attrs & (FIXED_TPM | FIXED_PARENT | RESTRICTED | DECRYPT)) != (FIXED_TPM | FIXED_PARENT | RESTRICTED | DECRYPT)
                || (attrs & SIGN) != 0) {
            throw new EnrolmentRefused("ek", "the EK public area is not a fixed, restricted decryption key");
        }
        if (!(pub.unique instanceof TPM2B_PUBLIC_KEY_RSA rsa) || !(pub.parameters instanceof TPMS_RSA_PARMS parms)
                || !(ekCertificate.getPublicKey() instanceof RSAPublicKey certKey)) {
            throw new EnrolmentRefused("ek", "the EK public area is not the RSA key of the EK certificate (only RSA EKs are supported)");
        }
        BigInteger exponent = BigInteger.valueOf(parms.exponent == 0 ? 65537 : Integer.toUnsignedLong(parms.exponent));
        if (!new BigInteger(1, rsa.buffer).equals(certKey.getModulus()) || !exponent.equals(certKey.getPublicExponent())) {
            throw new EnrolmentRefused("ek", "the EK public area is not the key of the EK certificate");
        }
        return pub;
    }

    /** The AK's TPMT_PUBLIC: a restricted signing key born in a TPM (ECC P-256 or RSA), with its name and JCA key. */
    static AttestationKey attestationKey(byte[] publicArea) {
        TPMT_PUBLIC pub = publicArea(publicArea, "AK");
        int attrs = pub.objectAttributes.toInt();
        int needed = FIXED_TPM | FIXED_PARENT | SENSITIVE_ORIGIN | RESTRICTED | SIGN;
        if ((attrs & needed) != needed || (attrs & DECRYPT) != 0) {
            throw new EnrolmentRefused("ak", "the AK is not a restricted signing key generated in and fixed to a TPM");
        }
        if (pub.nameAlg == null || pub.nameAlg.toInt() != TPM_ALG_ID.SHA256.toInt()) {
            throw new EnrolmentRefused("ak", "the AK's name algorithm is not SHA-256");
        }
        PublicKey key;
        try {
            if (pub.unique instanceof TPMS_ECC_POINT point && pub.parameters instanceof TPMS_ECC_PARMS parms) {
                if (parms.curveID == null || parms.curveID.toInt() != TPM_ECC_CURVE.NIST_P256.toInt()) {
                    throw new EnrolmentRefused("ak", "the AK's curve is not NIST P-256");
                }
                AlgorithmParameters ap = AlgorithmParameters.getInstance("EC");
                ap.init(new ECGenParameterSpec("secp256r1"));
                key = KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(
                        new ECPoint(new BigInteger(1, point.x), new BigInteger(1, point.y)),
                        ap.getParameterSpec(ECParameterSpec.class)));
            } else if (pub.unique instanceof TPM2B_PUBLIC_KEY_RSA rsa && pub.parameters instanceof TPMS_RSA_PARMS parms) {
                long e = parms.exponent == 0 ? 65537 : Integer.toUnsignedLong(parms.exponent);
                if (rsa.buffer.length < 256) {
                    throw new EnrolmentRefused("ak", "the AK's RSA key has fewer than 2048 bits");
                }
                key = KeyFactory.getInstance("RSA").generatePublic(
                        new java.security.spec.RSAPublicKeySpec(new BigInteger(1, rsa.buffer), BigInteger.valueOf(e)));
            } else {
                throw new EnrolmentRefused("ak", "the AK is neither an ECC nor an RSA key");
            }
        } catch (GeneralSecurityException e) {
            throw new EnrolmentRefused("ak", "the AK's public key is not valid: " + e.getMessage());
        }
        byte[] name = ByteBuffer.allocate(34).putShort((short) TPM_ALG_ID.SHA256.toInt()).put(sha256(publicArea)).array();
        return new AttestationKey(publicArea.clone(), name, key);
    }

    private static TPMT_PUBLIC publicArea(byte[] bytes, String what) {
        if (bytes == null || bytes.length == 0 || bytes.length > MAX_PUBLIC_AREA) {
            throw new EnrolmentRefused(what.toLowerCase(), "the " + what + " public area is missing or larger than "
                    + MAX_PUBLIC_AREA + " bytes");
        }
        TPMT_PUBLIC pub;
        try {
            pub = TPMT_PUBLIC.fromBytes(bytes);
        } catch (RuntimeException e) {
            throw new EnrolmentRefused(what.toLowerCase(), "the " + what + " public area is malformed: " + e.getMessage());
        }
        byte[] again;
        try {
            again = pub.toBytes();
        } catch (RuntimeException e) {
            throw new EnrolmentRefused(what.toLowerCase(), "the " + what + " public area is malformed: " + e.getMessage());
        }
        if (!Arrays.equals(again, bytes)) {
            throw new EnrolmentRefused(what.toLowerCase(), "the " + what + " public area has trailing or non-canonical bytes");
        }
        return pub;
    }

    /** MakeCredential: a secret only the TPM holding this EK can recover, and only for a loaded key with this name. */
    static Tss.ActivationCredential makeCredential(TPMT_PUBLIC ek, byte[] akName, byte[] secret) {
        return Tss.createActivationCredential(ek, akName, secret);
    }

    /**
     * The quote proves the TLS key came from the attested platform: a TPM-generated quote, signed by the AK,
     * whose signer is the AK and whose qualifying data is SHA-256 of the TLS key's SubjectPublicKeyInfo.
     */
    static TpmsAttest quote(byte[] attest, byte[] signature, AttestationKey ak, PublicKey tlsKey) {
        TpmsAttest parsed;
        TpmSignature sig;
        try {
            parsed = TpmsAttest.parse(attest);
            sig = TpmSignature.parse(signature);
        } catch (MalformedEvidenceException e) {
            throw new EnrolmentRefused("quote", e.getMessage());
        }
        try {
            Signature v = Signature.getInstance(sig.jcaAlgorithm());
            v.initVerify(ak.key());
            v.update(attest);
            if (!v.verify(sig.jcaSignature())) {
                throw new EnrolmentRefused("quote", "the quote's signature does not verify with the attestation key");
            }
        } catch (GeneralSecurityException e) {
            throw new EnrolmentRefused("quote", "the quote's signature does not verify with the attestation key: "
                    + e.getMessage());
        }
        // the AK is a primary key of the endorsement hierarchy (Tpm.attestationKey): the TPM names it by its qualified name
        if (!Arrays.equals(parsed.qualifiedSigner(),
                Expectation.qualifiedNameOfPrimary(Expectation.TPM_RH_ENDORSEMENT, ak.name()))) {
            throw new EnrolmentRefused("quote", "the quote names another signing key than the attestation key");
        }
        if (!MessageDigest.isEqual(parsed.extraData(), sha256(tlsKey.getEncoded()))) {
            throw new EnrolmentRefused("quote",
                    "the quote's qualifying data is not SHA-256 of the TLS public key: the key is not bound to the platform");
        }
        return parsed;
    }

    static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
