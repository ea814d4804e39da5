package io.ferry.enrolment.internal;

import java.io.IOException;
import java.net.URI;
import java.security.KeyPair;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Pattern;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.ferry.api.attestation.Attester;
import io.ferry.api.enrolment.AgentEnrolment;
import io.ferry.api.enrolment.EnrolmentException;
import io.ferry.api.enrolment.EnrolmentException.Reason;
import io.ferry.api.enrolment.EnrolmentRequest;
import io.ferry.api.enrolment.EnrolmentStatus;
import io.ferry.api.itcenter.AccessDeniedException;
import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.seal.SealException;
import io.ferry.api.tpm.Quote;
import io.ferry.api.tpm.Tpm;
import io.ferry.api.tpm.TpmException;
import io.ferry.api.tpm.TpmPublic;

/**
 * The agent's side of attested enrolment (see docs/enrolment.md): the IT center is reached over TLS
 * with its pinned root, the EK certificate, EK and attestation key go to it, the TPM recovers the
 * challenge's secret with ActivateCredential, the attestation key quotes SHA-256 of a new TLS key's
 * SubjectPublicKeyInfo, and the certificate the IT center issues is stored with the key in seal storage.
 */
@Component(service = AgentEnrolment.class)
public final class TpmEnrolment implements AgentEnrolment {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    private static final Duration STEP = Duration.ofSeconds(60);

    private final Tpm tpm;
    private final ItCenterLinkService link;
    private final Attester attester;

    @Activate
    public TpmEnrolment(@Reference Tpm tpm, @Reference ItCenterLinkService link, @Reference Attester attester) {
        this.tpm = tpm;
        this.link = link;
        this.attester = attester;
    }

    @Override
    public EnrolmentStatus status() {
        return link.identity().map(id -> new EnrolmentStatus(true, id.agentId(), link.uri(), id.serial(),
                id.notBefore(), id.notAfter(), Pki.fingerprint(id.root()))).orElse(EnrolmentStatus.none());
    }

    @Override
    public EnrolmentStatus enrol(EnrolmentRequest r, Consumer<String> progress) {
        Consumer<String> say = progress == null ? s -> { } : progress;
        URI base = checkRequest(r);
        if (link.enrolled() && !r.replace()) {
            throw new EnrolmentException(Reason.INVALID, "this agent is enrolled already as "
                    + link.identity().orElseThrow().agentId() + "; give replace (--force) to enrol again");
        }
        String pin;
        try {
            pin = r.rootSha256() != null && !r.rootSha256().isBlank() ? Pki.normaliseFingerprint(r.rootSha256())
                    : link.configuredRootFingerprint().orElse(null);
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new EnrolmentException(Reason.INVALID, e.getMessage(), e);
        }
        try {
            // 1. the IT center, trusted only through its pinned root
            say.accept("Connecting to the IT center at " + base + (pin == null ? "" : " (root SHA-256 " + pin + ")"));
            Tls.PinningTrustManager.Seen seen = new Tls.PinningTrustManager.Seen();
            HttpsClient pinned = link.anonymousClient(base, Tls.pinned(pin, seen));
            X509Certificate root;
            try {
                root = Pki.certificate(pinned.getBytes("ca", STEP));
            } catch (ItCenterException e) {
                X509Certificate[] chain = seen.chain;
                if (chain != null && chain.length > 0) {
                    X509Certificate top = chain[chain.length - 1];
                    throw new EnrolmentException(Reason.UNTRUSTED, (pin == null ? "no IT center root is pinned"
                            : "the IT center's certificate does not lead to the pinned root " + pin)
                            + "; it presented the root " + top.getSubjectX500Principal().getName() + " with SHA-256 "
                            + Pki.fingerprint(top) + ". Check that fingerprint with the IT center's administrator "
                            + "(itcenter:info) and give it with --root-sha256.");
                }
                throw e;
            }
            if (pin == null || !Pki.fingerprint(root).equals(pin)) {
                throw new EnrolmentException(Reason.UNTRUSTED, "the IT center's root certificate is not the pinned one");
            }
            say.accept("IT center root: " + root.getSubjectX500Principal().getName());

            // 2. the platform's identity: EK certificate, EK, AK
            say.accept("Reading the EK certificate from the TPM");
            byte[] ekCert = tpm.endorsementCertificate().orElseThrow(() -> new EnrolmentException(Reason.PLATFORM,
                    "the TPM has no EK certificate (NV index 0x01C00002): the IT center cannot tell it is a real TPM"));
            TpmPublic ek = tpm.endorsementKey();
            say.accept("Loading the attestation key (the one the Attester quotes with)");
            TpmPublic ak = tpm.attestationKey();

            // 3. the TLS key
            say.accept("Creating the TLS key pair (EC P-256)");
            KeyPair keys = Pki.newTlsKeyPair();

            // 4. challenge
            say.accept("Asking the IT center for a credential challenge");
            Base64.Encoder b64 = Base64.getEncoder();
            ObjectNode ask = JSON.createObjectNode().put("name", r.name()).put("token", r.token());
            if (r.group() != null && !r.group().isBlank()) {
                ask.put("group", r.group());
            } else {
                ask.putNull("group");
            }
            ask.put("ekCertificate", b64.encodeToString(ekCert)).put("ekPublic", b64.encodeToString(ek.publicArea()))
                    .put("akPublic", b64.encodeToString(ak.publicArea()));
            JsonNode challenge = JSON.readTree(pinned.call("POST", "enrolment/challenge", ask.toString(), STEP));
            String challengeId = text(challenge, "challengeId");

            // 5. ActivateCredential, quote
            say.accept("Activating the credential in the TPM (proves the AK and the EK share this TPM)");
            Base64.Decoder d = Base64.getDecoder();
            byte[] secret = tpm.activateCredential(d.decode(text(challenge, "integrityHmac")),
                    d.decode(text(challenge, "encIdentity")), d.decode(text(challenge, "encryptedSecret")));
            say.accept("Quoting SHA-256 of the TLS public key with the attestation key (PCR "
                    + attester.measurementPcr() + ")");
            Quote quote = tpm.quote(Pki.sha256(keys.getPublic().getEncoded()), attester.measurementPcr());

            // 6. complete
            say.accept("Sending the proof, the quote and the certificate request");
            ObjectNode done = JSON.createObjectNode().put("challengeId", challengeId)
                    .put("secret", b64.encodeToString(secret)).put("csr", Pki.csr(r.name(), keys))
                    .put("quoteAttest", b64.encodeToString(quote.attest()))
                    .put("quoteSignature", b64.encodeToString(quote.signature()));
            JsonNode enrolled = JSON.readTree(pinned.call("POST", "enrolment/complete", done.toString(), STEP));
            String agentId = text(enrolled, "agentId");
            List<X509Certificate> certs = Pki.certificates(text(enrolled, "pem"));
            X509Certificate[] chain = ItCenterLinkService.checkIssued(certs, root, keys.getPublic(), agentId);

            // 7. keep it
            say.accept("Storing the key and the certificate in seal storage");
            Identity id = new Identity(base, agentId, keys.getPrivate(), chain, root);
            link.install(id);
            say.accept("Enrolled as agent " + agentId + " (" + text(enrolled, "name") + ", owner "
                    + enrolled.path("owner").asText() + ", group " + enrolled.path("group").asText() + "); certificate "
                    + id.serial() + " valid until " + id.notAfter());
            return status();
        } catch (AccessDeniedException e) {
            throw new EnrolmentException(Reason.REFUSED, "the IT center refused: " + e.getMessage(), e);
        } catch (ItCenterException e) {
            throw new EnrolmentException(e.reason() == ItCenterException.Reason.UNAVAILABLE ? Reason.UNAVAILABLE
                    : Reason.REFUSED, (e.reason() == ItCenterException.Reason.UNAVAILABLE ? "" : "the IT center refused: ")
                    + e.getMessage(), e);
        } catch (TpmException | SealException e) {
            throw new EnrolmentException(Reason.PLATFORM, e.getMessage(), e);
        } catch (IOException | CertificateException e) {
            throw new EnrolmentException(Reason.REFUSED, "the IT center's answer is not usable: " + e.getMessage(), e);
        }
    }

    private static URI checkRequest(EnrolmentRequest r) {
        if (r == null || r.itCenter() == null) {
            throw new EnrolmentException(Reason.INVALID, "the IT center's URL is required");
        }
        URI u = r.itCenter();
        if (!"https".equalsIgnoreCase(u.getScheme()) || u.getHost() == null || u.getRawQuery() != null
                || u.getRawFragment() != null || u.getRawUserInfo() != null) {
            throw new EnrolmentException(Reason.INVALID, "the IT center's URL must be https://host[:port]/[path], not " + u);
        }
        if (r.name() == null || !NAME.matcher(r.name()).matches()) {
            throw new EnrolmentException(Reason.INVALID, "name: 1 to 64 characters of A-Z a-z 0-9 . _ -");
        }
        if (r.token() == null || r.token().isBlank()) {
            throw new EnrolmentException(Reason.INVALID, "the invitation's token is required (itcenter:invite on the IT center)");
        }
        return u.getPath() == null || u.getPath().isEmpty() ? u.resolve("/") : u;
    }

    private static String text(JsonNode n, String field) throws IOException {
        JsonNode v = n.get(field);
        if (v == null || !v.isTextual() || v.asText().isEmpty()) {
            throw new IOException("no '" + field + "' in the IT center's answer");
        }
        return v.asText();
    }
}
