package io.ferry.itcenter.vms;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.HexFormat;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.itcenter.ItCenterException.Reason;

/**
 * The IT center's policy-signing key: EC P-256, in a PKCS#12 file under a passphrase kept in a file
 * beside it (both owner-only), made on first use; its public half is also written as a PEM
 * {@code PUBLIC KEY} file, the file an agent's {@code itcenter.key.file} names. The PKCS#12 entry
 * carries a self-signed certificate only because PKCS#12 keeps a private key with a certificate;
 * nothing checks that certificate.
 */
final class PolicyKey {

    static final String ALIAS = "ferry-policy-signing";
    private static final Duration LIFETIME = Duration.ofDays(3650);

    private final KeyPair pair;

    private PolicyKey(KeyPair pair) {
        this.pair = pair;
    }

    KeyPair pair() {
        return pair;
    }

    ECPublicKey publicKey() {
        return (ECPublicKey) pair.getPublic();
    }

    String publicPem() {
        return pem(pair.getPublic().getEncoded());
    }

    /**
     * Opens the key in {@code p12} with the passphrase in {@code passFile}, making both when there is
     * no key store yet, and (re)writes the public key to {@code publicPem}.
     */
    static PolicyKey openOrCreate(Path p12, Path passFile, Path publicPem) {
        try {
            Files.createDirectories(p12.toAbsolutePath().getParent());
            if (!Files.exists(passFile)) {
                byte[] secret = new byte[24];
                new SecureRandom().nextBytes(secret);
                String pass = HexFormat.of().formatHex(secret);
                writePrivate(passFile, out -> out.write(pass.getBytes(StandardCharsets.US_ASCII)));
            }
            char[] pass = Files.readString(passFile, StandardCharsets.UTF_8).strip().toCharArray();
            PolicyKey key;
            if (Files.exists(p12)) {
                KeyStore ks = KeyStore.getInstance("PKCS12");
                try (InputStream in = Files.newInputStream(p12)) {
                    ks.load(in, pass);
                }
                PrivateKey priv = (PrivateKey) ks.getKey(ALIAS, pass);
                Certificate cert = ks.getCertificate(ALIAS);
                if (priv == null || cert == null || !(cert.getPublicKey() instanceof ECPublicKey)) {
                    throw new ItCenterException(Reason.UNAVAILABLE, p12 + " holds no EC entry " + ALIAS);
                }
                key = new PolicyKey(new KeyPair(cert.getPublicKey(), priv));
            } else {
                KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
                g.initialize(new ECGenParameterSpec("secp256r1"));
                KeyPair kp = g.generateKeyPair();
                KeyStore ks = KeyStore.getInstance("PKCS12");
                ks.load(null, null);
                ks.setKeyEntry(ALIAS, kp.getPrivate(), pass, new Certificate[] {selfSigned(kp)});
                writePrivate(p12, out -> ks.store(out, pass));
                key = new PolicyKey(kp);
            }
            Path tmp = Files.createTempFile(publicPem.toAbsolutePath().getParent(), ".policy-key", ".tmp");
            Files.writeString(tmp, key.publicPem(), StandardCharsets.US_ASCII);
            Files.move(tmp, publicPem, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return key;
        } catch (IOException e) {
            if (e.getCause() instanceof java.security.UnrecoverableKeyException) {
                throw new ItCenterException(Reason.UNAVAILABLE, "wrong passphrase for " + p12, e);
            }
            throw new ItCenterException(Reason.UNAVAILABLE, "cannot read or write the policy key " + p12 + ": "
                    + e.getMessage(), e);
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new ItCenterException(Reason.UNAVAILABLE, "cannot use the policy key " + p12 + ": "
                    + e.getMessage(), e);
        }
    }

    static String pem(byte[] spki) {
        return "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(spki)
                + "\n-----END PUBLIC KEY-----\n";
    }

    private static X509Certificate selfSigned(KeyPair kp) throws GeneralSecurityException, OperatorCreationException {
        Instant now = Instant.now();
        X500Name name = new X500Name("O=Ferry,CN=Ferry IT center policy signing");
        return new JcaX509CertificateConverter().getCertificate(new JcaX509v3CertificateBuilder(name,
                new BigInteger(127, new SecureRandom()), Date.from(now.minusSeconds(60)), Date.from(now.plus(LIFETIME)),
                name, kp.getPublic()).build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate())));
    }

    @FunctionalInterface
    private interface Writer {
        void write(OutputStream out) throws IOException, GeneralSecurityException;
    }

    /** Writes a file readable by its owner only, atomically (never a half-written key). */
    private static void writePrivate(Path file, Writer writer) throws IOException, GeneralSecurityException {
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = dir.resolve("." + file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        try {
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException | FileAlreadyExistsException e) {
            Files.createFile(tmp);
        }
        try (OutputStream out = Files.newOutputStream(tmp)) {
            writer.write(out);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
    }
}
