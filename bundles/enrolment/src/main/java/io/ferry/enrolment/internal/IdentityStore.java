package io.ferry.enrolment.internal;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

import io.ferry.api.seal.SealStorage;

/**
 * The identity in seal storage, as three secrets: the TLS private key (PKCS#8), the certificate chain
 * with the root last (PEM), and the IT center's URL with the agent's id. The last is written last, so an
 * interrupted save leaves no half identity.
 */
final class IdentityStore {

    static final String KEY = "ferry.agent.tls-key";
    static final String CERTIFICATES = "ferry.agent.tls-certificates";
    static final String ITCENTER = "ferry.agent.itcenter";

    private final SealStorage seal;

    IdentityStore(SealStorage seal) {
        this.seal = seal;
    }

    Optional<Identity> load() {
        if (!seal.list().contains(ITCENTER)) {
            return Optional.empty();
        }
        String[] lines = new String(seal.get(ITCENTER), StandardCharsets.UTF_8).split("\n");
        if (lines.length != 2) {
            throw new IllegalStateException("secret " + ITCENTER + " is not 'url\\nagent-id'");
        }
        try {
            List<X509Certificate> certs = Pki.certificates(new String(seal.get(CERTIFICATES), StandardCharsets.US_ASCII));
            if (certs.size() < 2) {
                throw new CertificateException("the stored chain has no root");
            }
            byte[] der = seal.get(KEY);
            String alg = certs.get(0).getPublicKey().getAlgorithm();
            PrivateKey key = KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der));
            Arrays.fill(der, (byte) 0);
            return Optional.of(new Identity(URI.create(lines[0]), lines[1], key,
                    certs.subList(0, certs.size() - 1).toArray(new X509Certificate[0]), certs.get(certs.size() - 1)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the stored identity is damaged: " + e.getMessage(), e);
        }
    }

    void save(Identity id) {
        seal.put(KEY, id.key().getEncoded());
        saveCertificates(id);
        seal.put(ITCENTER, (id.itCenter() + "\n" + id.agentId()).getBytes(StandardCharsets.UTF_8));
    }

    void saveCertificates(Identity id) {
        X509Certificate[] all = Arrays.copyOf(id.chain(), id.chain().length + 1);
        all[all.length - 1] = id.root();
        seal.put(CERTIFICATES, Pki.pem(all).getBytes(StandardCharsets.US_ASCII));
    }
}
