package io.ferry.itcenter.internal;

import java.security.KeyPair;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** Test helpers: keys, CSRs and PEM parsing as an agent would do them. */
final class Pki {

    private Pki() {
    }

    static KeyPair keyPair() throws Exception {
        return CertificateAuthority.newKeyPair();
    }

    static String csr(KeyPair kp) throws Exception {
        PKCS10CertificationRequest csr = new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=agent"),
                kp.getPublic()).build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate()));
        return CertificateAuthority.pem(csr);
    }

    /** A CSR whose signature is by another key than the one it names. */
    static String forgedCsr(KeyPair named, KeyPair signer) throws Exception {
        PKCS10CertificationRequest csr = new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=agent"),
                named.getPublic()).build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate()));
        return CertificateAuthority.pem(csr);
    }

    static String publicKeyPem(KeyPair kp) {
        return CertificateAuthority.pem(kp.getPublic());
    }

    @SuppressWarnings("unchecked")
    static List<X509Certificate> certificates(String pem) throws Exception {
        return (List<X509Certificate>) CertificateFactory.getInstance("X.509")
                .generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
    }
}
