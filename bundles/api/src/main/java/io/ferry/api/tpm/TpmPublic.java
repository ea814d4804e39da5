package io.ferry.api.tpm;

import java.security.PublicKey;

/**
 * The public side of a TPM key.
 *
 * @param publicArea the marshalled TPMT_PUBLIC
 * @param name the TPM name (nameAlg || digest of the public area)
 * @param key the public key for JCA ({@code EC} or {@code RSA})
 */
public record TpmPublic(byte[] publicArea, byte[] name, PublicKey key) {

    public TpmPublic {
        publicArea = publicArea.clone();
        name = name.clone();
    }

    @Override
    public byte[] publicArea() {
        return publicArea.clone();
    }

    @Override
    public byte[] name() {
        return name.clone();
    }

    /** The key as a PEM "PUBLIC KEY" (X.509 SubjectPublicKeyInfo), as openssl and tpm2_checkquote read it. */
    public String pem() {
        String b64 = java.util.Base64.getMimeEncoder(64, "\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII))
                .encodeToString(key.getEncoded());
        return "-----BEGIN PUBLIC KEY-----\n" + b64 + "\n-----END PUBLIC KEY-----\n";
    }
}
