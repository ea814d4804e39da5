package io.ferry.itcenter.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.CRLNumber;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v2CRLBuilder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.PKCSException;

import io.ferry.api.itcenter.AccessDeniedException;
import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.itcenter.ItCenterException.Reason;

/**
 * The IT center's certificate authority: an ECDSA P-256 root key and self-signed root certificate
 * kept in a PKCS#12 file under a passphrase, agent TLS certificates issued from a public key or a
 * PKCS#10 request, CRLs, and the check of a client's certificate chain. Pure crypto: what was
 * issued and revoked is kept by the caller in the registry.
 */
final class CertificateAuthority {

    static final String ROOT_ALIAS = "ferry-itcenter-root";
    private static final String SIGNATURE = "SHA256withECDSA";
    private static final Duration ROOT_LIFETIME = Duration.ofDays(3650);

    /** A certificate just issued. */
    record Issued(X509Certificate certificate, String serial) {
    }

    private final PrivateKey rootKey;
    private final X509Certificate root;
    /** SHA-256 of the certificates the validator accepted, the most recently used few thousand. */
    private final Map<String, Boolean> issuedHere = java.util.Collections.synchronizedMap(
            new LinkedHashMap<>(64, 0.75f, true) {
                private static final long serialVersionUID = 1L;

                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                    return size() > 4096;
                }
            });
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();

    private CertificateAuthority(PrivateKey rootKey, X509Certificate root, Clock clock) {
        this.rootKey = rootKey;
        this.root = root;
        this.clock = clock;
    }

    /**
     * The CA whose root key is in a PKCS#12 file; with no file yet, a new root key and certificate
     * are made and written there (owner-only permissions), atomically.
     */
    static CertificateAuthority openOrCreate(Path keystore, char[] passphrase, String rootName, Clock clock) {
        try {
            if (Files.exists(keystore)) {
                KeyStore ks = KeyStore.getInstance("PKCS12");
                try (InputStream in = Files.newInputStream(keystore)) {
                    ks.load(in, passphrase);
                }
                PrivateKey key = (PrivateKey) ks.getKey(ROOT_ALIAS, passphrase);
                X509Certificate cert = (X509Certificate) ks.getCertificate(ROOT_ALIAS);
                if (key == null || cert == null) {
                    throw new ItCenterException(Reason.UNAVAILABLE, keystore + " holds no entry " + ROOT_ALIAS);
                }
                return new CertificateAuthority(key, cert, clock);
            }
            CertificateAuthority ca = create(rootName, clock);
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry(ROOT_ALIAS, ca.rootKey, passphrase, new java.security.cert.Certificate[] {ca.root});
            writePrivate(keystore, out -> ks.store(out, passphrase));
            return ca;
        } catch (IOException e) {
            if (e.getCause() instanceof java.security.UnrecoverableKeyException) {
                throw new ItCenterException(Reason.UNAVAILABLE, "wrong passphrase for " + keystore, e);
            }
            throw new ItCenterException(Reason.UNAVAILABLE, "cannot read or write " + keystore + ": " + e.getMessage(), e);
        } catch (GeneralSecurityException e) {
            throw new ItCenterException(Reason.UNAVAILABLE, "cannot use " + keystore + ": " + e.getMessage(), e);
        }
    }

    /** A CA with a new root key, kept in memory only. */
    static CertificateAuthority create(String rootName, Clock clock) {
        try {
            KeyPair kp = newKeyPair();
            Instant now = clock.instant();
            X500Name name = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, "Ferry")
                    .addRDN(BCStyle.CN, rootName).build();
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, new BigInteger(127, new SecureRandom()),
                    Date.from(now.minusSeconds(60)), Date.from(now.plus(ROOT_LIFETIME)), name, kp.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                    .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(kp.getPublic()));
            X509Certificate cert = convert(b.build(signer(kp.getPrivate())));
            return new CertificateAuthority(kp.getPrivate(), cert, clock);
        } catch (GeneralSecurityException | IOException | OperatorCreationException e) {
            throw new ItCenterException(Reason.UNAVAILABLE, "cannot create the root key: " + e.getMessage(), e);
        }
    }

    X509Certificate root() {
        return root;
    }

    /** A new EC P-256 key pair. */
    static KeyPair newKeyPair() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    /**
     * An agent certificate (TLS client and server) for a key: subject CN is the agent id, OU its
     * device group; valid from a minute ago for the given lifetime.
     */
    Issued issueAgent(String agentId, String deviceGroup, PublicKey key, Duration lifetime) {
        return issue(agentId, deviceGroup, key, clock.instant().minusSeconds(60), clock.instant().plus(lifetime),
                new KeyPurposeId[] {KeyPurposeId.id_kp_clientAuth, KeyPurposeId.id_kp_serverAuth}, null);
    }

    /** The IT center's own TLS server certificate for the given host names and addresses. */
    Issued issueServer(List<String> hosts, PublicKey key, Duration lifetime) {
        List<GeneralName> names = new ArrayList<>();
        for (String h : hosts) {
            boolean ip = h.matches("[0-9.]+") || h.contains(":");
            names.add(new GeneralName(ip ? GeneralName.iPAddress : GeneralName.dNSName, h));
        }
        return issue("itcenter", "itcenter", key, clock.instant().minusSeconds(60), clock.instant().plus(lifetime),
                new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth},
                new GeneralNames(names.toArray(new GeneralName[0])));
    }

    /** For tests: a certificate with any validity period. */
    Issued issue(String cn, String ou, PublicKey key, Instant notBefore, Instant notAfter, KeyPurposeId[] purposes,
            GeneralNames altNames) {
        try {
            X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, "Ferry")
                    .addRDN(BCStyle.OU, ou).addRDN(BCStyle.CN, cn).build();
            BigInteger serial = new BigInteger(127, random).setBit(126);
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(root, serial, Date.from(notBefore),
                    Date.from(notAfter), subject, key)
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement))
                    .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purposes))
                    .addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(root))
                    .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(key));
            if (altNames != null) {
                b.addExtension(Extension.subjectAlternativeName, false, altNames);
            }
            X509Certificate cert = convert(b.build(signer(rootKey)));
            return new Issued(cert, serial(cert));
        } catch (GeneralSecurityException | IOException | OperatorCreationException e) {
            throw new ItCenterException(Reason.UNAVAILABLE, "cannot issue a certificate: " + e.getMessage(), e);
        }
    }

    /** A CRL listing the given serials, valid for the given time. */
    byte[] crl(List<Tables.Revoked> revoked, Duration validity, long number) {
        try {
            Instant now = clock.instant();
            X509v2CRLBuilder b = new X509v2CRLBuilder(new X509CertificateHolder(root.getEncoded()).getSubject(),
                    Date.from(now));
            b.setNextUpdate(Date.from(now.plus(validity)));
            for (Tables.Revoked r : revoked) {
                b.addCRLEntry(new BigInteger(r.serial(), 16), Date.from(r.revokedAt()), CRLReason.unspecified);
            }
            b.addExtension(Extension.cRLNumber, false, new CRLNumber(BigInteger.valueOf(number)));
            b.addExtension(Extension.authorityKeyIdentifier, false,
                    new JcaX509ExtensionUtils().createAuthorityKeyIdentifier(root));
            return b.build(signer(rootKey)).getEncoded();
        } catch (GeneralSecurityException | IOException | OperatorCreationException e) {
            throw new ItCenterException(Reason.UNAVAILABLE, "cannot sign the CRL: " + e.getMessage(), e);
        }
    }

    /**
     * Checks that a leaf certificate was issued by this CA and is valid now, by the JDK's PKIX
     * validator with the root as the only trust anchor (revocation is the registry's business).
     * Every agent request is authenticated this way: a certificate that passed is remembered by its
     * bytes (their signature cannot change), so its next requests pay for the date check only.
     */
    void verify(X509Certificate leaf) {
        try {
            leaf.checkValidity(Date.from(clock.instant()));
        } catch (CertificateExpiredException | CertificateNotYetValidException e) {
            throw new AccessDeniedException(AccessDeniedException.Reason.EXPIRED,
                    "certificate " + serial(leaf) + " is not valid now (valid " + leaf.getNotBefore().toInstant()
                            + " to " + leaf.getNotAfter().toInstant() + ")");
        }
        String fingerprint;
        try {
            fingerprint = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(leaf.getEncoded()));
        } catch (GeneralSecurityException e) {
            throw new AccessDeniedException(AccessDeniedException.Reason.FOREIGN, "certificate not usable: " + e.getMessage());
        }
        if (issuedHere.containsKey(fingerprint)) {
            return; // these very bytes validated before; the dates were checked above, revocation is the caller's
        }
        try {
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(root, null)));
            params.setRevocationEnabled(false);
            params.setDate(Date.from(clock.instant()));
            CertPathValidator.getInstance("PKIX").validate(cf.generateCertPath(List.of(leaf)), params);
            issuedHere.put(fingerprint, Boolean.TRUE);
        } catch (CertPathValidatorException e) {
            throw new AccessDeniedException(AccessDeniedException.Reason.FOREIGN,
                    "certificate '" + leaf.getSubjectX500Principal().getName() + "' was not issued by this IT center");
        } catch (GeneralSecurityException e) {
            throw new AccessDeniedException(AccessDeniedException.Reason.FOREIGN, "certificate not usable: " + e.getMessage());
        }
    }

    /** The public key of a PEM {@code CERTIFICATE REQUEST} (its signature checked) or {@code PUBLIC KEY}. */
    static PublicKey publicKey(String pem) {
        if (pem == null || pem.isBlank() || pem.length() > 16_384) {
            throw new ItCenterException(Reason.INVALID, "a PEM public key or certificate request is required");
        }
        Object o;
        try (PEMParser p = new PEMParser(new StringReader(pem))) {
            o = p.readObject();
        } catch (IOException | RuntimeException e) {
            throw new ItCenterException(Reason.INVALID, "not a PEM public key or certificate request: " + e.getMessage());
        }
        try {
            if (o instanceof PKCS10CertificationRequest csr) {
                PublicKey key = checked(csr.getSubjectPublicKeyInfo());
                if (!csr.isSignatureValid(new JcaContentVerifierProviderBuilder().build(key))) {
                    throw new ItCenterException(Reason.INVALID, "the certificate request's signature does not verify");
                }
                return key;
            }
            if (o instanceof SubjectPublicKeyInfo spki) {
                return checked(spki);
            }
        } catch (OperatorCreationException | PKCSException | GeneralSecurityException | IOException e) {
            throw new ItCenterException(Reason.INVALID, "unusable certificate request: " + e.getMessage());
        }
        throw new ItCenterException(Reason.INVALID,
                "expected a PEM CERTIFICATE REQUEST or PUBLIC KEY, got " + (o == null ? "nothing" : o.getClass().getSimpleName()));
    }

    /** The public key of a PKCS#10 request, only: renewal must prove possession. */
    static PublicKey csrPublicKey(String pem) {
        if (pem == null || !pem.contains("CERTIFICATE REQUEST")) {
            throw new ItCenterException(Reason.INVALID, "a PEM CERTIFICATE REQUEST is required");
        }
        return publicKey(pem);
    }

    private static PublicKey checked(SubjectPublicKeyInfo spki) throws GeneralSecurityException, IOException {
        String alg = spki.getAlgorithm().getAlgorithm().getId();
        String jca = switch (alg) {
            case "1.2.840.10045.2.1" -> "EC";
            case "1.2.840.113549.1.1.1" -> "RSA";
            case "1.3.101.112" -> "Ed25519";
            default -> throw new ItCenterException(Reason.INVALID, "unsupported key algorithm " + alg);
        };
        PublicKey key = java.security.KeyFactory.getInstance(jca)
                .generatePublic(new java.security.spec.X509EncodedKeySpec(spki.getEncoded()));
        if (key instanceof java.security.interfaces.RSAPublicKey rsa && rsa.getModulus().bitLength() < 2048) {
            throw new ItCenterException(Reason.INVALID, "RSA keys must have at least 2048 bits");
        }
        return key;
    }

    static String pem(Object... objects) {
        StringWriter w = new StringWriter();
        try (JcaPEMWriter pw = new JcaPEMWriter(w)) {
            for (Object o : objects) {
                pw.writeObject(o);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return w.toString();
    }

    static String serial(X509Certificate cert) {
        return cert.getSerialNumber().toString(16);
    }

    static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(data));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ContentSigner signer(PrivateKey key) throws OperatorCreationException {
        return new JcaContentSignerBuilder(SIGNATURE).build(key);
    }

    private static X509Certificate convert(X509CertificateHolder holder) throws GeneralSecurityException {
        return new JcaX509CertificateConverter().getCertificate(holder);
    }

    /** Writes a file readable by its owner only, replacing it atomically. */
    @FunctionalInterface
    interface Writer {
        void write(OutputStream out) throws IOException, GeneralSecurityException;
    }

    static void writePrivate(Path file, Writer writer) throws IOException, GeneralSecurityException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        try {
            Files.createFile(tmp, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                    java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            Files.createFile(tmp);
        }
        try (OutputStream out = Files.newOutputStream(tmp)) {
            writer.write(out);
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
