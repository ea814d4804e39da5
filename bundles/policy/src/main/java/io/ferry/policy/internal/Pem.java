package io.ferry.policy.internal;

import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.interfaces.ECPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;

/** Reads a PEM {@code PUBLIC KEY} (SubjectPublicKeyInfo) that holds an EC key. */
final class Pem {

    private static final String BEGIN = "-----BEGIN PUBLIC KEY-----";
    private static final String END = "-----END PUBLIC KEY-----";

    private Pem() {
    }

    /** @throws IllegalArgumentException naming what is wrong */
    static ECPublicKey ecPublicKey(String pem) {
        int b = pem.indexOf(BEGIN);
        int e = pem.indexOf(END);
        if (b < 0 || e < b) {
            throw new IllegalArgumentException("not a PEM public key (no " + BEGIN + " ... " + END + ")");
        }
        try {
            byte[] der = Base64.getMimeDecoder().decode(pem.substring(b + BEGIN.length(), e));
            if (KeyFactory.getInstance("EC").generatePublic(new X509EncodedKeySpec(der)) instanceof ECPublicKey k) {
                return k;
            }
            throw new IllegalArgumentException("not an EC public key");
        } catch (GeneralSecurityException | IllegalArgumentException ex) {
            throw new IllegalArgumentException("not an EC P-256 public key: " + ex.getMessage(), ex);
        }
    }

    static String encode(ECPublicKey key) {
        return BEGIN + "\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(key.getEncoded()) + "\n"
                + END + "\n";
    }
}
