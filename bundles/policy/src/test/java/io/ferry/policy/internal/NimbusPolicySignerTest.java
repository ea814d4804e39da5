package io.ferry.policy.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.util.Base64;
import java.util.Set;

import org.junit.jupiter.api.Test;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;

import io.ferry.api.policy.PolicyException;
import io.ferry.api.policy.PolicyException.Reason;
import io.ferry.api.policy.PolicyFormatException;
import io.ferry.api.policy.PolicySigner;
import io.ferry.api.policy.SignedPolicy;

class NimbusPolicySignerTest {

    static final KeyPair IT_CENTER = Fixtures.p256();
    static final KeyPair OTHER = Fixtures.p256();
    final NimbusPolicySigner signer = new NimbusPolicySigner();

    ECPublicKey pub() {
        return (ECPublicKey) IT_CENTER.getPublic();
    }

    String signed() {
        return signer.sign(Fixtures.POLICY, Fixtures.LEVELS, IT_CENTER).jws();
    }

    static String b64(String s) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    static String decode(String part) {
        return new String(Base64.getUrlDecoder().decode(part), StandardCharsets.UTF_8);
    }

    void refused(String jws, Reason reason, String message) {
        assertThatThrownBy(() -> signer.verify(jws, Fixtures.LEVELS, pub())).isInstanceOf(PolicyException.class)
                .hasMessageContaining(message).extracting(e -> ((PolicyException) e).reason()).isEqualTo(reason);
    }

    @Test
    void signsAndVerifies() {
        SignedPolicy s = signer.sign(Fixtures.POLICY, Fixtures.LEVELS, IT_CENTER);
        String[] parts = s.jws().split("\\.");
        assertThat(parts).hasSize(3);
        assertThat(decode(parts[0])).contains("\"alg\":\"ES256\"").contains("\"typ\":\"" + PolicySigner.TYPE + "\"")
                .contains("\"kid\":\"" + NimbusPolicySigner.keyId(pub()) + "\"");
        assertThat(decode(parts[1])).isEqualTo(Fixtures.POLICY);
        assertThat(Base64.getUrlDecoder().decode(parts[2])).hasSize(64); // R || S, as RFC 7518 wants
        SignedPolicy v = signer.verify(s.jws(), Fixtures.LEVELS, pub());
        assertThat(v.policy()).isEqualTo(s.policy());
        assertThat(v.document()).isEqualTo(Fixtures.POLICY);
        assertThat(v.keyId()).isEqualTo(s.keyId()).hasSize(43);
        // surrounding white space (a file's final newline) is fine
        assertThat(signer.verify(s.jws() + "\n", Fixtures.LEVELS, pub()).policy()).isEqualTo(s.policy());
    }

    @Test
    void tamperedPayloadIsRefused() {
        String[] p = signed().split("\\.");
        String forged = Fixtures.POLICY.replace("min-target-level: measured", "min-target-level: untrusted");
        refused(p[0] + "." + b64(forged) + "." + p[2], Reason.BAD_SIGNATURE, "does not verify");
    }

    @Test
    void tamperedVersionOrVmIsRefused() {
        String[] p = signed().split("\\.");
        refused(p[0] + "." + b64(Fixtures.version(99)) + "." + p[2], Reason.BAD_SIGNATURE, "does not verify");
        String otherVm = Fixtures.POLICY.replace(Fixtures.UUID, "11111111-2222-3333-4444-555555555555");
        refused(p[0] + "." + b64(otherVm) + "." + p[2], Reason.BAD_SIGNATURE, "does not verify");
    }

    @Test
    void tamperedSignatureIsRefused() {
        String jws = signed();
        char last = jws.charAt(jws.length() - 5);
        String flipped = jws.substring(0, jws.length() - 5) + (last == 'A' ? 'B' : 'A') + jws.substring(jws.length() - 4);
        refused(flipped, Reason.BAD_SIGNATURE, "does not verify");
    }

    @Test
    void otherKeyIsRefused() {
        String byOther = signer.sign(Fixtures.POLICY, Fixtures.LEVELS, OTHER).jws();
        refused(byOther, Reason.WRONG_KEY, "not by this agent's IT center key");
    }

    @Test
    void otherKeyClaimingOurKidIsRefused() throws Exception {
        JWSHeader h = new JWSHeader.Builder(JWSAlgorithm.ES256).type(new JOSEObjectType(PolicySigner.TYPE))
                .keyID(NimbusPolicySigner.keyId(pub())).build();
        JWSObject o = new JWSObject(h, new Payload(Fixtures.POLICY));
        o.sign(new ECDSASigner((ECPrivateKey) OTHER.getPrivate()));
        refused(o.serialize(), Reason.BAD_SIGNATURE, "does not verify");
    }

    @Test
    void algNoneIsRefused() {
        String none = b64("{\"alg\":\"none\",\"typ\":\"" + PolicySigner.TYPE + "\"}") + "." + b64(Fixtures.POLICY) + ".";
        refused(none, Reason.BAD_SIGNATURE, "not a signed policy");
        String noneWithSig = none + signed().split("\\.")[2];
        refused(noneWithSig, Reason.BAD_SIGNATURE, "not a signed policy");
    }

    @Test
    void hmacWithThePublicKeyAsSecretIsRefused() throws Exception {
        for (JWSAlgorithm alg : new JWSAlgorithm[] {JWSAlgorithm.HS256, JWSAlgorithm.HS512}) {
            JWSObject o = new JWSObject(new JWSHeader.Builder(alg).type(new JOSEObjectType(PolicySigner.TYPE)).build(),
                    new Payload(Fixtures.POLICY));
            o.sign(new MACSigner(pub().getEncoded()));
            refused(o.serialize(), Reason.BAD_SIGNATURE, "signed with " + alg.getName() + "; only ES256");
        }
    }

    @Test
    void otherEcAlgorithmsAreRefused() throws Exception {
        KeyPair p384 = Fixtures.ec("secp384r1");
        JWSObject o = new JWSObject(new JWSHeader.Builder(JWSAlgorithm.ES384).type(new JOSEObjectType(PolicySigner.TYPE))
                .build(), new Payload(Fixtures.POLICY));
        o.sign(new ECDSASigner((ECPrivateKey) p384.getPrivate()));
        refused(o.serialize(), Reason.BAD_SIGNATURE, "only ES256");
        // our valid signature under a header that claims another algorithm
        String[] p = signed().split("\\.");
        String es512 = b64(decode(p[0]).replace("ES256", "ES512"));
        refused(es512 + "." + p[1] + "." + p[2], Reason.BAD_SIGNATURE, "only ES256");
    }

    @Test
    void zeroSignatureIsRefused() {
        String[] p = signed().split("\\.");
        String zeros = Base64.getUrlEncoder().withoutPadding().encodeToString(new byte[64]);
        refused(p[0] + "." + p[1] + "." + zeros, Reason.BAD_SIGNATURE, "does not verify");
    }

    @Test
    void derSignatureIsRefused() throws Exception {
        String[] p = signed().split("\\.");
        byte[] raw = Base64.getUrlDecoder().decode(p[2]);
        byte[] der = com.nimbusds.jose.crypto.impl.ECDSA.transcodeSignatureToDER(raw);
        String jws = p[0] + "." + p[1] + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(der);
        assertThatThrownBy(() -> signer.verify(jws, Fixtures.LEVELS, pub())).isInstanceOf(PolicyException.class)
                .extracting(e -> ((PolicyException) e).reason()).isEqualTo(Reason.BAD_SIGNATURE);
    }

    @Test
    void otherTypeIsRefused() throws Exception {
        for (String typ : new String[] {"JWT", null}) {
            JWSHeader.Builder b = new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(NimbusPolicySigner.keyId(pub()));
            if (typ != null) {
                b.type(new JOSEObjectType(typ));
            }
            JWSObject o = new JWSObject(b.build(), new Payload(Fixtures.POLICY));
            o.sign(new ECDSASigner((ECPrivateKey) IT_CENTER.getPrivate()));
            refused(o.serialize(), Reason.BAD_SIGNATURE, "not a Ferry policy");
        }
    }

    @Test
    void criticalHeaderIsRefused() throws Exception {
        JWSObject o = new JWSObject(new JWSHeader.Builder(JWSAlgorithm.ES256).type(new JOSEObjectType(PolicySigner.TYPE))
                .criticalParams(Set.of("exp")).customParam("exp", 1).build(), new Payload(Fixtures.POLICY));
        o.sign(new ECDSASigner((ECPrivateKey) IT_CENTER.getPrivate()));
        refused(o.serialize(), Reason.BAD_SIGNATURE, "critical header");
    }

    @Test
    void garbageIsRefused() {
        refused("", Reason.BAD_SIGNATURE, "not a signed policy");
        refused(Fixtures.POLICY, Reason.BAD_SIGNATURE, "not a signed policy");
        refused("a.b.c", Reason.BAD_SIGNATURE, "not a signed policy");
        refused("{\"payload\":\"x\",\"signatures\":[]}", Reason.BAD_SIGNATURE, "not a signed policy");
    }

    @Test
    void signedInvalidDocumentIsRefused() throws Exception {
        JWSObject o = new JWSObject(new JWSHeader.Builder(JWSAlgorithm.ES256).type(new JOSEObjectType(PolicySigner.TYPE))
                .build(), new Payload(Fixtures.POLICY.replace("effect: deny", "effect: maybe")));
        o.sign(new ECDSASigner((ECPrivateKey) IT_CENTER.getPrivate()));
        assertThatThrownBy(() -> signer.verify(o.serialize(), Fixtures.LEVELS, pub()))
                .isInstanceOf(PolicyFormatException.class).hasMessageContaining("rules[3].effect");
    }

    @Test
    void signedNonUtf8IsRefused() throws Exception {
        JWSObject o = new JWSObject(new JWSHeader.Builder(JWSAlgorithm.ES256).type(new JOSEObjectType(PolicySigner.TYPE))
                .build(), new Payload(new byte[] {'a', ':', ' ', (byte) 0xC3, (byte) 0x28}));
        o.sign(new ECDSASigner((ECPrivateKey) IT_CENTER.getPrivate()));
        refused(o.serialize(), Reason.INVALID_DOCUMENT, "not UTF-8");
    }

    @Test
    void invalidDocumentIsNotSigned() {
        assertThatThrownBy(() -> signer.sign(Fixtures.POLICY.replace("version: 3", "version: 0"), Fixtures.LEVELS,
                IT_CENTER)).isInstanceOf(PolicyFormatException.class).hasMessageContaining("line 2");
    }

    @Test
    void onlyMatchingP256KeyPairsSign() {
        KeyPair p384 = Fixtures.ec("secp384r1");
        assertThatThrownBy(() -> signer.sign(Fixtures.POLICY, Fixtures.LEVELS, p384)).isInstanceOf(PolicyException.class)
                .hasMessageContaining("P-256");
        KeyPair mixed = new KeyPair(OTHER.getPublic(), IT_CENTER.getPrivate());
        assertThatThrownBy(() -> signer.sign(Fixtures.POLICY, Fixtures.LEVELS, mixed))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("mismatched");
        assertThatThrownBy(() -> signer.verify(signed(), Fixtures.LEVELS, (ECPublicKey) p384.getPublic()))
                .isInstanceOf(PolicyException.class).hasMessageContaining("P-256");
    }

    @Test
    void pemRoundTrip() {
        ECPublicKey k = Pem.ecPublicKey(Pem.encode(pub()));
        assertThat(k.getEncoded()).isEqualTo(pub().getEncoded());
        assertThatThrownBy(() -> Pem.ecPublicKey("nothing")).isInstanceOf(IllegalArgumentException.class);
    }
}
