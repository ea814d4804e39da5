package io.ferry.attestation.internal;

import java.net.URI;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;

import io.ferry.api.attestation.AppraisalPolicy;
import io.ferry.api.attestation.AttestationRecord;
import io.ferry.api.attestation.AttestationResult;
import io.ferry.api.attestation.Reason;
import io.ferry.api.attestation.ReferenceValue;
import io.ferry.api.attestation.Remediation;
import io.ferry.api.attestation.Verdict;
import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.itcenter.ItCenterLink;
import io.ferry.attestation.verifier.Expectation;
import io.ferry.attestation.verifier.SoftwareAttester;
import io.ferry.attestation.verifier.Verifier;
import io.ferry.attestation.wire.AttestationJson;
import io.ferry.attestation.wire.EvidenceSubmission;
import io.ferry.attestation.wire.NonceGrant;
import io.ferry.attestation.wire.NonceRequest;

/**
 * A stand-in for the IT center's {@code /api/v1/attestation} behind {@link ItCenterLink}s (the real one is
 * tested in the itcenter bundle): nonces bound to agent and binding, verdicts by the real {@link Verifier}
 * on the wire format, and a remediation the test chooses.
 */
final class FakeItCenter {

    record Nonce(String requester, String agent, byte[] binding) {
    }

    final Map<String, PublicKey> aks = new ConcurrentHashMap<>();
    final List<ReferenceValue> references = new ArrayList<>();
    final Map<String, Nonce> nonces = new ConcurrentHashMap<>();
    final List<AttestationRecord> record = new ArrayList<>();
    final List<String> calls = new ArrayList<>();
    /** The round trip of every call, as if the IT center were that far away (benchmarks). */
    volatile long latencyMillis;
    /** The remediation for a verdict below the level asked for. */
    volatile BiFunction<Verdict, String, Remediation> remediation = (v, level) -> Remediation.NONE;
    private final SecureRandom random = new SecureRandom();

    void enrol(String agent, SoftwareAttester tpm) throws Exception {
        aks.put(agent, KeyFactory.getInstance("EC").generatePublic(new X509EncodedKeySpec(tpm.akPublic())));
    }

    /** The link of one agent: its calls are authenticated as that agent. */
    ItCenterLink link(String caller) {
        return new ItCenterLink() {
            @Override
            public URI uri() {
                return URI.create("https://itcenter.test:8443/");
            }

            @Override
            public boolean enrolled() {
                return true;
            }

            @Override
            public String call(String method, String path, String json, Duration timeout) {
                long away = latencyMillis;
                if (away > 0) { // the network's round trip, outside the lock: two agents' calls overlap in it
                    try {
                        Thread.sleep(away);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new ItCenterException(ItCenterException.Reason.UNAVAILABLE, "interrupted");
                    }
                }
                synchronized (FakeItCenter.this) {
                    calls.add(caller + " " + method + " " + path);
                    return handle(caller, method, path, json);
                }
            }
        };
    }

    private String handle(String caller, String method, String path, String json) {
        switch (method + " " + path) {
            case "POST attestation/nonces" -> {
                NonceRequest r = AttestationJson.read(json, AttestationJson::nonceRequest);
                String agent = r.agent() == null ? caller : r.agent();
                if (!aks.containsKey(agent)) {
                    throw new ItCenterException(ItCenterException.Reason.NOT_FOUND, "no agent " + agent);
                }
                byte[] nonce = new byte[32];
                random.nextBytes(nonce);
                nonces.put(HexFormat.of().formatHex(nonce), new Nonce(caller, agent, r.binding()));
                return AttestationJson.write(AttestationJson.toJson(new NonceGrant(nonce, agent, r.binding(),
                        Instant.now().plusSeconds(60))));
            }
            case "POST attestation/verdicts" -> {
                EvidenceSubmission s = AttestationJson.read(json, AttestationJson::submission);
                String agent = s.agent() == null ? caller : s.agent();
                Nonce n = nonces.remove(HexFormat.of().formatHex(s.evidence().nonce()));
                Verdict v;
                if (n == null || !n.requester().equals(caller) || !n.agent().equals(agent)) {
                    v = new Verdict("untrusted", false, List.of(new Reason(Reason.Code.STALE_NONCE, null,
                            "unknown, used or foreign nonce")), List.of(), List.of());
                } else {
                    v = Verifier.verify(s.evidence(), new Expectation(aks.get(agent), null, s.evidence().nonce(),
                            n.binding(), SoftwareAttester.PCR), AppraisalPolicy.DEFAULT, references);
                }
                boolean qualifies = s.requiredLevel() == null
                        || AppraisalPolicy.DEFAULT.levels().atLeast(v.level(), s.requiredLevel());
                AttestationResult result = new AttestationResult(agent, Instant.now(), v, s.requiredLevel(), qualifies,
                        qualifies ? Remediation.NONE : remediation.apply(v, s.requiredLevel()));
                record.add(new AttestationRecord(record.size() + 1, caller, !caller.equals(agent), result));
                return AttestationJson.write(AttestationJson.toJson(result));
            }
            case "GET attestation/latest" -> {
                return record.stream().filter(r -> r.result().agentId().equals(caller)).reduce((a, b) -> b)
                        .map(r -> AttestationJson.write(AttestationJson.toJson(r)))
                        .orElseThrow(() -> new ItCenterException(ItCenterException.Reason.NOT_FOUND, "none"));
            }
            default -> throw new ItCenterException(ItCenterException.Reason.NOT_FOUND, "no " + method + " " + path);
        }
    }
}
