package io.ferry.attestation.internal;

import java.time.Duration;
import java.util.Optional;
import java.util.function.Supplier;

import io.ferry.api.attestation.AttestationException;
import io.ferry.api.attestation.AttestationRecord;
import io.ferry.api.attestation.AttestationResult;
import io.ferry.api.itcenter.AccessDeniedException;
import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.itcenter.ItCenterLink;
import io.ferry.attestation.wire.AttestationJson;
import io.ferry.attestation.wire.EvidenceSubmission;
import io.ferry.attestation.wire.NonceGrant;
import io.ferry.attestation.wire.NonceRequest;
import io.ferry.attestation.wire.WireFormatException;

/** The IT center's {@code /api/v1/attestation} through the agent's {@link ItCenterLink}, in AttestationJson. */
final class ItCenterClient {

    static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final Supplier<ItCenterLink> link;

    ItCenterClient(Supplier<ItCenterLink> link) {
        this.link = link;
    }

    NonceGrant nonce(String agent, byte[] binding) {
        return call("POST", "attestation/nonces", AttestationJson.write(AttestationJson.toJson(
                new NonceRequest(agent, binding))), "a nonce", AttestationJson::nonceGrant);
    }

    AttestationResult submit(EvidenceSubmission s) {
        return call("POST", "attestation/verdicts", AttestationJson.write(AttestationJson.toJson(s)), "a verdict",
                AttestationJson::result);
    }

    Optional<AttestationRecord> latest() {
        try {
            return Optional.of(call("GET", "attestation/latest", null, "the latest verdict", AttestationJson::record));
        } catch (AttestationException e) {
            if (e.getCause() instanceof ItCenterException i && i.reason() == ItCenterException.Reason.NOT_FOUND) {
                return Optional.empty();
            }
            throw e;
        }
    }

    private <T> T call(String method, String path, String body, String what,
            java.util.function.Function<AttestationJson.Fields, T> reader) {
        ItCenterLink l = link.get();
        if (l == null) {
            throw new AttestationException("no link to the IT center (feature ferry-enrolment): cannot ask for " + what);
        }
        if (!l.enrolled()) {
            throw new AttestationException("this agent has not enrolled with the IT center: cannot ask for " + what);
        }
        String answer;
        try {
            answer = l.call(method, path, body, TIMEOUT);
        } catch (AccessDeniedException e) {
            throw new AttestationException("the IT center refused this agent's certificate asking for " + what + ": "
                    + e.getMessage(), e);
        } catch (ItCenterException e) {
            throw new AttestationException("the IT center " + l.uri() + " answered " + e.reason() + " asking for "
                    + what + ": " + e.getMessage(), e);
        }
        try {
            return AttestationJson.read(answer, reader);
        } catch (WireFormatException e) {
            throw new AttestationException("the IT center's answer for " + what + " is malformed: " + e.getMessage(), e);
        }
    }
}
