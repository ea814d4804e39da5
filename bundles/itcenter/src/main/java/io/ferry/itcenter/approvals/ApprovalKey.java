package io.ferry.itcenter.approvals;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;

import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;

import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.itcenter.ItCenterException.Reason;

/**
 * The approval key pair: made once, its private half in an owner-only PEM file. Agents configure
 * its public half as seal storage's approval key (etc/ferry-approval-key.pem).
 */
final class ApprovalKey {

    private final PrivateKey privateKey;
    private final PublicKey publicKey;

    private ApprovalKey(PrivateKey privateKey, PublicKey publicKey) {
        this.privateKey = privateKey;
        this.publicKey = publicKey;
    }

    static ApprovalKey openOrCreate(Path file) {
        try {
            if (!Files.exists(file)) {
                KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
                g.initialize(new ECGenParameterSpec("secp256r1"));
                KeyPair pair = g.generateKeyPair();
                write(file, pair);
            }
            KeyPair pair = read(file);
            return new ApprovalKey(pair.getPrivate(), pair.getPublic());
        } catch (IOException e) {
            throw new ItCenterException(Reason.UNAVAILABLE, "cannot read or write the approval key " + file, e);
        } catch (GeneralSecurityException e) {
            throw new ItCenterException(Reason.UNAVAILABLE, "the approval key " + file + " is not an EC key pair", e);
        }
    }

    /** ECDSA P-256 with SHA-256 over the message, DER-encoded as seal storage expects. */
    byte[] sign(byte[] message) {
        try {
            Signature s = Signature.getInstance("SHA256withECDSA");
            s.initSign(privateKey);
            s.update(message);
            return s.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("ECDSA P-256 is not available", e);
        }
    }

    String publicKeyPem() {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter pem = new JcaPEMWriter(out)) {
            pem.writeObject(publicKey);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    /** Both halves, as a PKCS#8 private key followed by the public key. */
    private static void write(Path file, KeyPair pair) throws IOException {
        Files.createDirectories(file.getParent());
        StringWriter out = new StringWriter();
        try (JcaPEMWriter pem = new JcaPEMWriter(out)) {
            pem.writeObject(new JcaPKCS8Generator(pair.getPrivate(), null));
            pem.writeObject(pair.getPublic());
        }
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(tmp, out.toString(), StandardCharsets.US_ASCII, StandardOpenOption.TRUNCATE_EXISTING);
        Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    private static KeyPair read(Path file) throws IOException, GeneralSecurityException {
        try (PEMParser parser = new PEMParser(new StringReader(Files.readString(file, StandardCharsets.US_ASCII)))) {
            Object first = parser.readObject();
            Object second = parser.readObject();
            if (!(first instanceof PrivateKeyInfo priv) || !(second instanceof SubjectPublicKeyInfo pub)) {
                throw new GeneralSecurityException("not a private key followed by its public key");
            }
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            return new KeyPair(converter.getPublicKey(pub), converter.getPrivateKey(priv));
        }
    }
}
