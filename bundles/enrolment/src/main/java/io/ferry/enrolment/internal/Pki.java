package io.ferry.enrolment.internal;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

import javax.security.auth.x500.X500Principal;

import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemReader;

/** Keys, certificates, PEM and fingerprints, with JCA and BouncyCastle's PKIX helpers. */
final class Pki {

    private Pki() {
    }

    /** A new EC P-256 key pair for TLS. */
    static KeyPair newTlsKeyPair() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"));
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("no EC P-256 key generator", e);
        }
    }

    /** A PKCS#10 request (PEM) signed by the key, proving possession of it. */
    static String csr(String cn, KeyPair keys) {
        try {
            PKCS10CertificationRequest csr = new JcaPKCS10CertificationRequestBuilder(
                    new X500Principal("CN=" + cn), keys.getPublic())
                    .build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate()));
            return pem("CERTIFICATE REQUEST", csr.getEncoded());
        } catch (OperatorCreationException | IOException e) {
            throw new IllegalStateException("cannot make a certificate request: " + e.getMessage(), e);
        }
    }

    static String pem(String type, byte[] der) {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
            w.writeObject(new PemObject(type, der));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out.toString();
    }

    static String pem(X509Certificate... certificates) {
        StringBuilder b = new StringBuilder();
        for (X509Certificate c : certificates) {
            try {
                b.append(pem("CERTIFICATE", c.getEncoded()));
            } catch (CertificateException e) {
                throw new IllegalStateException(e);
            }
        }
        return b.toString();
    }

    /** Every CERTIFICATE in a PEM text, in order. */
    static List<X509Certificate> certificates(String pem) throws CertificateException {
        List<X509Certificate> out = new ArrayList<>();
        try (PemReader r = new PemReader(new StringReader(pem))) {
            PemObject o;
            while ((o = r.readPemObject()) != null) {
                if (o.getType().equals("CERTIFICATE")) {
                    out.add(certificate(o.getContent()));
                }
            }
        } catch (IOException e) {
            throw new CertificateException("not PEM: " + e.getMessage(), e);
        }
        if (out.isEmpty()) {
            throw new CertificateException("no certificate in the PEM text");
        }
        return out;
    }

    static X509Certificate certificate(byte[] der) throws CertificateException {
        return (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(der));
    }

    /** A certificate from PEM or DER bytes. */
    static X509Certificate certificateFromFile(byte[] bytes) throws CertificateException {
        String text = new String(bytes, StandardCharsets.US_ASCII);
        return text.contains("-----BEGIN CERTIFICATE-----") ? certificates(text).get(0) : certificate(bytes);
    }

    static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** SHA-256 of a certificate's DER, lower-case hex without separators. */
    static String fingerprint(X509Certificate c) {
        try {
            return HexFormat.of().formatHex(sha256(c.getEncoded()));
        } catch (CertificateException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A SHA-256 fingerprint as typed ({@code AB:CD:...}, upper or lower case, with or without colons or
     * spaces), normalised to 64 lower-case hex digits; null when blank.
     *
     * @throws IllegalArgumentException when it is not 32 bytes of hex
     */
    static String normaliseFingerprint(String s) {
        if (s == null || s.isBlank()) {
            return null;
        }
        String hex = s.replaceAll("[:\\s]", "").toLowerCase(Locale.ROOT);
        if (!hex.matches("[0-9a-f]{64}")) {
            throw new IllegalArgumentException("not a SHA-256 fingerprint (64 hex digits, colons allowed): " + s);
        }
        return hex;
    }

    /** The CN of a certificate's subject. */
    static String commonName(X509Certificate c) {
        X500Name name = X500Name.getInstance(c.getSubjectX500Principal().getEncoded());
        RDN[] cn = name.getRDNs(BCStyle.CN);
        if (cn.length == 0) {
            throw new IllegalArgumentException("the certificate has no CN: " + c.getSubjectX500Principal());
        }
        return IETFUtils.valueToString(cn[0].getFirst().getValue());
    }

    /** Whether the private key belongs to the public key (signs and verifies a test message). */
    static boolean matches(PrivateKey priv, PublicKey pub) {
        try {
            String alg = pub.getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256withRSA";
            java.security.Signature s = java.security.Signature.getInstance(alg);
            s.initSign(priv);
            byte[] msg = "ferry key check".getBytes(StandardCharsets.US_ASCII);
            s.update(msg);
            byte[] sig = s.sign();
            s.initVerify(pub);
            s.update(msg);
            return s.verify(sig);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }
}
