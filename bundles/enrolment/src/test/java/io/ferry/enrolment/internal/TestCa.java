package io.ferry.enrolment.internal;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v2CRLBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CRLConverter;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** A throwaway IT-center-like CA for the tests: agent and server certificates and CRLs. */
final class TestCa {

    private static final AtomicLong SERIALS = new AtomicLong(0x1000);

    final KeyPair keys = Pki.newTlsKeyPair();
    final X509Certificate root;

    TestCa(String name) throws Exception {
        X500Name n = new X500Name("CN=" + name);
        root = new JcaX509CertificateConverter().getCertificate(new JcaX509v3CertificateBuilder(n,
                BigInteger.valueOf(SERIALS.incrementAndGet()), Date.from(Instant.now().minusSeconds(3600)),
                Date.from(Instant.now().plusSeconds(86400 * 10)), n, keys.getPublic())
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
                .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                .build(signer()));
    }

    private ContentSigner signer() throws Exception {
        return new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate());
    }

    X509Certificate agent(String cn, KeyPair k) throws Exception {
        return issue(cn, k, Instant.now().minusSeconds(60), Instant.now().plusSeconds(3600));
    }

    X509Certificate issue(String cn, KeyPair k, Instant from, Instant to) throws Exception {
        return new JcaX509CertificateConverter().getCertificate(new JcaX509v3CertificateBuilder(
                new X500Name(root.getSubjectX500Principal().getName()), BigInteger.valueOf(SERIALS.incrementAndGet()),
                Date.from(from), Date.from(to), new X500Name("O=Ferry,CN=" + cn), k.getPublic())
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement))
                .addExtension(Extension.extendedKeyUsage, false,
                        new ExtendedKeyUsage(new KeyPurposeId[] { KeyPurposeId.id_kp_clientAuth, KeyPurposeId.id_kp_serverAuth }))
                .build(signer()));
    }

    X509Certificate server(KeyPair k) throws Exception {
        return new JcaX509CertificateConverter().getCertificate(new JcaX509v3CertificateBuilder(
                new X500Name(root.getSubjectX500Principal().getName()), BigInteger.valueOf(SERIALS.incrementAndGet()),
                Date.from(Instant.now().minusSeconds(60)), Date.from(Instant.now().plusSeconds(3600)),
                new X500Name("CN=itcenter"), k.getPublic())
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth))
                .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                        new GeneralName(GeneralName.dNSName, "localhost"),
                        new GeneralName(GeneralName.iPAddress, "127.0.0.1") }))
                .build(signer()));
    }

    /** The key managers of an HTTPS server holding a fresh key and this CA's server certificate (with the root). */
    KeyManager[] serverKeyManagers() throws Exception {
        KeyPair k = Pki.newTlsKeyPair();
        char[] pw = "pw".toCharArray();
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("server", k.getPrivate(), pw, new X509Certificate[] { server(k), root });
        KeyManagerFactory kmf = KeyManagerFactory.getInstance("PKIX");
        kmf.init(ks, pw);
        return kmf.getKeyManagers();
    }

    X509CRL crl(List<X509Certificate> revoked, Instant thisUpdate, Instant nextUpdate) throws Exception {
        X509v2CRLBuilder b = new X509v2CRLBuilder(new X500Name(root.getSubjectX500Principal().getName()),
                Date.from(thisUpdate));
        b.setNextUpdate(Date.from(nextUpdate));
        for (X509Certificate c : revoked) {
            b.addCRLEntry(c.getSerialNumber(), Date.from(thisUpdate), CRLReason.privilegeWithdrawn);
        }
        return new JcaX509CRLConverter().getCRL(b.build(signer()));
    }
}
