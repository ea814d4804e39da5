package io.ferry.updater.internal;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.ferry.api.attestation.AttestationOutcome;
import io.ferry.api.attestation.RemoteAttestation;
import io.ferry.api.attestation.Verdict;
import io.ferry.api.itcenter.ItCenterLink;
import io.ferry.api.seal.Approval;
import io.ferry.api.seal.ApprovalRequest;
import io.ferry.api.seal.SealStorage;

/**
 * The renewal of seal storage's approval, free of OSGi: attest (so that the IT center's latest verdict
 * proves the current PCR values), ask the IT center to approve exactly what seal storage asks for
 * ({@code POST /api/v1/approvals}), check that the approval is for those values, install it.
 */
final class Renewal {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Supplier<ItCenterLink> link;
    private final Supplier<SealStorage> seal;
    private final Supplier<RemoteAttestation> attestation;
    private final Duration timeout;

    Renewal(Supplier<ItCenterLink> link, Supplier<SealStorage> seal, Supplier<RemoteAttestation> attestation,
            Duration timeout) {
        this.link = link;
        this.seal = seal;
        this.attestation = attestation;
        this.timeout = timeout;
    }

    Approval renew(Consumer<String> progress) {
        ItCenterLink l = link.get();
        SealStorage s = seal.get();
        RemoteAttestation a = attestation.get();
        if (l == null || !l.enrolled()) {
            throw new IllegalStateException("cannot renew the seal approval: " + (l == null ? "no IT center link "
                    + "(feature ferry-enrolment)" : "this agent has not enrolled (agent:enrol)"));
        }
        if (s == null) {
            throw new IllegalStateException("cannot renew the seal approval: no seal storage (feature ferry-seal-storage)");
        }
        if (a == null) {
            throw new IllegalStateException("cannot renew the seal approval: no attestation service (feature "
                    + "ferry-attestation): the IT center approves only what a fresh attestation proved");
        }
        progress.accept("Attesting through the IT center, so that its verdict proves the current PCR values");
        AttestationOutcome outcome = a.attest(null, 1, progress);
        Verdict v = outcome.last().verdict();
        progress.accept("Verdict: " + v.level() + (v.genuine() ? "" : " (not genuine)"));
        if (!v.genuine()) {
            throw new IllegalStateException("cannot renew the seal approval: the IT center's verdict is not genuine, "
                    + "it proves no PCR value: " + v.reasons());
        }
        ApprovalRequest request = s.approvalRequest();
        progress.accept("Asking the IT center to approve " + request.pcrs());
        String answer;
        try {
            Map<String, String> body = new LinkedHashMap<>();
            body.put("request", request.encode());
            answer = l.call("POST", "approvals", JSON.writeValueAsString(body), timeout);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        Approval approval = parse(answer);
        if (!approval.pcrs().equals(request.pcrs())) {
            throw new IllegalStateException("the IT center approved " + approval.pcrs() + ", not the requested "
                    + request.pcrs() + ": not installed");
        }
        s.approve(approval);
        progress.accept("Installed approval version " + approval.version());
        return approval;
    }

    /** The IT center's answer: {"version":N,"approval":"ferry-approval: 1\n..."}. */
    static Approval parse(String json) {
        try {
            JsonNode n = JSON.readTree(json == null ? "" : json);
            if (n == null || !n.path("approval").isTextual()) {
                throw new IllegalStateException("the IT center's answer has no approval: " + json);
            }
            Approval approval = Approval.parse(n.get("approval").asText());
            if (n.has("version") && n.get("version").asLong() != approval.version()) {
                throw new IllegalStateException("the IT center's answer names version " + n.get("version").asLong()
                        + " but the approval is version " + approval.version());
            }
            return approval;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("the IT center's answer is not JSON: " + e.getOriginalMessage());
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("the IT center's answer is not an approval: " + e.getMessage());
        }
    }
}
