package io.ferry.policy.internal;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.text.ParseException;

import org.osgi.service.component.annotations.Component;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;

import io.ferry.api.policy.Policy;
import io.ferry.api.policy.PolicyException;
import io.ferry.api.policy.PolicyException.Reason;
import io.ferry.api.policy.PolicySigner;
import io.ferry.api.attestation.SecurityLevels;
import io.ferry.api.policy.SignedPolicy;

/**
 * ES256 JWS over the policy document, with Nimbus JOSE+JWT. Verification accepts exactly one
 * algorithm (ES256) and one type, and only the key it is given: keys or key URLs in the header
 * ({@code jwk}, {@code jku}, {@code x5c}) are never used, and a header with critical parameters is
 * refused. {@code alg: none} is not even a JWS to Nimbus, and an HMAC algorithm (the classic
 * "public key as HMAC secret" downgrade) is refused by name before any verification.
 */
@Component(service = PolicySigner.class)
public final class NimbusPolicySigner implements PolicySigner {

    public static final String CONTENT_TYPE = "application/yaml";

    @Override
    public Policy parse(String document, SecurityLevels levels) {
        return PolicyParser.parse(document, levels);
    }

    @Override
    public SignedPolicy sign(String document, SecurityLevels levels, KeyPair pair) {
        Policy policy = PolicyParser.parse(document, levels);
        if (!(pair.getPrivate() instanceof ECPrivateKey priv) || !(pair.getPublic() instanceof ECPublicKey pub)) {
            throw new IllegalArgumentException("the policy-signing key is an EC P-256 key pair");
        }
        String kid = keyId(pub);
        JWSHeader header = new JWSHeader.Builder(JWSAlgorithm.ES256).type(new JOSEObjectType(TYPE))
                .contentType(CONTENT_TYPE).keyID(kid).build();
        JWSObject jws = new JWSObject(header, new Payload(document.getBytes(StandardCharsets.UTF_8)));
        try {
            jws.sign(new ECDSASigner(priv));
        } catch (JOSEException e) {
            throw new IllegalArgumentException("cannot sign with this key: " + e.getMessage(), e);
        }
        String compact = jws.serialize();
        try {
            verify(compact, levels, pub); // the pair's halves belong together, and what we sign verifies
        } catch (PolicyException e) {
            throw new IllegalArgumentException("the signature made with this key pair does not verify with its "
                    + "public half (mismatched halves?): " + e.getMessage(), e);
        }
        return new SignedPolicy(policy, document, compact, kid);
    }

    @Override
    public SignedPolicy verify(String compact, SecurityLevels levels, ECPublicKey key) {
        String kid = keyId(key);
        JWSObject jws;
        try {
            jws = JWSObject.parse(compact.strip());
        } catch (ParseException e) {
            throw new PolicyException(Reason.BAD_SIGNATURE, "not a signed policy (a JWS in compact form): "
                    + e.getMessage(), e);
        }
        JWSHeader h = jws.getHeader();
        if (!JWSAlgorithm.ES256.equals(h.getAlgorithm())) {
            throw new PolicyException(Reason.BAD_SIGNATURE, "signed with " + h.getAlgorithm()
                    + "; only ES256 policies are accepted");
        }
        if (h.getType() == null || !TYPE.equals(h.getType().getType())) {
            throw new PolicyException(Reason.BAD_SIGNATURE, "not a Ferry policy: the JWS type is "
                    + (h.getType() == null ? "missing" : "'" + h.getType() + "'") + ", not '" + TYPE + "'");
        }
        if (h.getCriticalParams() != null && !h.getCriticalParams().isEmpty()) {
            throw new PolicyException(Reason.BAD_SIGNATURE, "the JWS names critical header parameters "
                    + h.getCriticalParams() + " that Ferry does not understand");
        }
        if (h.getKeyID() != null && !h.getKeyID().equals(kid)) {
            throw new PolicyException(Reason.WRONG_KEY, "signed by key " + h.getKeyID()
                    + ", not by this agent's IT center key " + kid);
        }
        boolean valid;
        try {
            valid = jws.verify(new ECDSAVerifier(key));
        } catch (JOSEException e) {
            throw new PolicyException(Reason.BAD_SIGNATURE, "the signature cannot be checked: " + e.getMessage(), e);
        }
        if (!valid) {
            throw new PolicyException(Reason.BAD_SIGNATURE, "the signature does not verify with the IT center key "
                    + kid + ": the policy was altered or not signed by the IT center");
        }
        String document = utf8(jws.getPayload().toBytes());
        Policy policy = PolicyParser.parse(document, levels);
        return new SignedPolicy(policy, document, jws.serialize(), kid);
    }

    /** The RFC 7638 SHA-256 thumbprint of a P-256 public key, base64url. */
    public static String keyId(ECPublicKey key) {
        Curve curve = Curve.forECParameterSpec(key.getParams());
        if (!Curve.P_256.equals(curve)) {
            throw new PolicyException(Reason.NO_KEY, "the IT center's policy key must be EC P-256 (ES256), not "
                    + (curve == null ? "this curve" : curve.getName()));
        }
        try {
            return new ECKey.Builder(Curve.P_256, key).build().computeThumbprint().toString();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String utf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new PolicyException(Reason.INVALID_DOCUMENT, "the signed document is not UTF-8 text", e);
        }
    }
}
