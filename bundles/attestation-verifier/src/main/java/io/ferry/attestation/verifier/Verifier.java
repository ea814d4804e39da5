package io.ferry.attestation.verifier;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.Signature;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import io.ferry.api.attestation.AppraisalPolicy;
import io.ferry.api.attestation.Evidence;
import io.ferry.api.attestation.MeasurementEntry;
import io.ferry.api.attestation.Reason;
import io.ferry.api.attestation.Reason.Code;
import io.ferry.api.attestation.ReferenceValue;
import io.ferry.api.attestation.Verdict;
import io.ferry.api.tpm.Pcr;

/**
 * The verifier: a pure function of evidence, expectation, policy and reference values (no I/O, no clock,
 * no TPM; JCA only). It never throws for bad evidence: what is wrong becomes a {@link Reason}.
 * <p>
 * Checks, in order: the quote parses (strictly) and its signature parses; the signature verifies with the
 * enrolled attestation key; the quote is a TPM-generated quote by that key; then, each reported on its
 * own: extraData = SHA-256(nonce || binding), the quoted PCR selection equals the PCRs sent and includes
 * the measurement PCR, the PCR values hash to the quote's PCR digest, the log replays to every quoted PCR
 * it has events for. Only genuine evidence (all of the above pass) is appraised: each component's latest
 * measurement (every measurement, with a strict-history policy) against the reference values, and the
 * policy's required components.
 */
public final class Verifier {

    private static final HexFormat HEX = HexFormat.of();

    private Verifier() {
    }

    public static Verdict verify(Evidence evidence, Expectation expected, AppraisalPolicy policy,
            Collection<ReferenceValue> references) {
        List<Reason> integrity = new ArrayList<>();
        TpmsAttest attest;
        TpmSignature signature;
        try {
            attest = TpmsAttest.parse(evidence.attest());
        } catch (NotAQuoteException e) {
            return untrusted(policy, new Reason(Code.NOT_A_QUOTE, null, e.getMessage()));
        } catch (RuntimeException e) {
            return untrusted(policy, new Reason(Code.MALFORMED_EVIDENCE, null, message(e)));
        }
        try {
            signature = TpmSignature.parse(evidence.signature());
        } catch (RuntimeException e) {
            return untrusted(policy, new Reason(Code.MALFORMED_EVIDENCE, null, message(e)));
        }
        String sigProblem = checkSignature(expected, signature, evidence.attest());
        if (sigProblem != null) {
            return untrusted(policy, new Reason(Code.BAD_SIGNATURE, null, sigProblem));
        }
        if (expected.akQualifiedName() != null
                && !MessageDigest.isEqual(expected.akQualifiedName(), attest.qualifiedSigner())) {
            return untrusted(policy, new Reason(Code.NOT_A_QUOTE, null, "the quote names signer "
                    + HEX.formatHex(attest.qualifiedSigner()) + ", not the enrolled attestation key "
                    + HEX.formatHex(expected.akQualifiedName())));
        }

        byte[] qualifying = Evidence.qualifyingData(expected.nonce(), expected.binding());
        if (!MessageDigest.isEqual(qualifying, attest.extraData())) {
            boolean sameNonceSent = MessageDigest.isEqual(evidence.nonce(), expected.nonce());
            boolean sameBindingSent = MessageDigest.isEqual(evidence.binding(), expected.binding());
            String why = !sameNonceSent ? "the evidence answers another nonce"
                    : !sameBindingSent ? "the quote is bound to another channel" : "the quote was made for other data";
            integrity.add(new Reason(Code.WRONG_NONCE, null, "the quote's qualifying data is not SHA-256(nonce || "
                    + "binding) of the expected nonce and binding: " + why + " (stale, replayed or relayed)"));
        }

        boolean selectionOk = checkSelection(evidence, expected, attest, integrity);
        if (selectionOk) {
            byte[] digest = pcrDigest(evidence.pcrs());
            if (!MessageDigest.isEqual(digest, attest.pcrDigest())) {
                integrity.add(new Reason(Code.PCR_DIGEST_MISMATCH, null, "the PCR values sent hash to "
                        + HEX.formatHex(digest) + ", the quote's PCR digest is " + HEX.formatHex(attest.pcrDigest())));
            }
        }
        checkReplay(evidence, expected, integrity);

        if (!integrity.isEmpty()) {
            return new Verdict(policy.levels().lowest(), false, integrity, List.of(), List.of());
        }
        return appraise(evidence.log(), policy, references);
    }

    private static Verdict untrusted(AppraisalPolicy policy, Reason reason) {
        return new Verdict(policy.levels().lowest(), false, List.of(reason), List.of(), List.of());
    }

    private static String message(RuntimeException e) {
        return e instanceof MalformedEvidenceException ? e.getMessage()
                : "malformed evidence: " + e.getClass().getSimpleName() + ": " + e.getMessage();
    }

    private static String checkSignature(Expectation expected, TpmSignature signature, byte[] attest) {
        String keyAlg = expected.attestationKey().getAlgorithm();
        boolean matches = signature.jcaAlgorithm().endsWith("ECDSA") ? keyAlg.equals("EC") : keyAlg.equals("RSA");
        if (!matches) {
            return "the quote is signed with " + signature.jcaAlgorithm() + ", the enrolled attestation key is "
                    + keyAlg + ": made by another key";
        }
        try {
            Signature s = Signature.getInstance(signature.jcaAlgorithm());
            s.initVerify(expected.attestationKey());
            s.update(attest);
            if (!s.verify(signature.jcaSignature())) {
                return "the quote's signature does not verify with the enrolled attestation key: made by another "
                        + "key, or the quote was changed";
            }
            return null;
        } catch (GeneralSecurityException | RuntimeException e) {
            return "the quote's signature does not verify with the enrolled attestation key (" + e.getMessage() + ")";
        }
    }

    private static boolean checkSelection(Evidence evidence, Expectation expected, TpmsAttest attest,
            List<Reason> out) {
        List<Integer> sent = evidence.pcrs().stream().map(Pcr::index).toList();
        if (attest.selections().size() != 1 || attest.selections().get(0).hashAlg() != TpmsAttest.TPM_ALG_SHA256) {
            out.add(new Reason(Code.PCR_SELECTION, null, "the quote must select PCRs of the SHA-256 bank only, not "
                    + attest.selections()));
            return false;
        }
        List<Integer> quoted = attest.selections().get(0).pcrs();
        boolean ok = true;
        if (!quoted.equals(sent)) {
            out.add(new Reason(Code.PCR_SELECTION, null, "the quote selects PCRs " + quoted
                    + ", the evidence sends values of PCRs " + sent));
            ok = false;
        }
        if (!quoted.contains(expected.measurementPcr())) {
            out.add(new Reason(Code.PCR_SELECTION, null, "the quote does not include the measurement PCR "
                    + expected.measurementPcr()));
        }
        return ok;
    }

    /** SHA-256 over the PCR values in increasing index order: TPMS_QUOTE_INFO.pcrDigest for one SHA-256 bank. */
    static byte[] pcrDigest(List<Pcr> pcrs) {
        MessageDigest md = sha256();
        pcrs.forEach(p -> md.update(p.value()));
        return md.digest();
    }

    private static void checkReplay(Evidence evidence, Expectation expected, List<Reason> out) {
        Map<Integer, byte[]> replay = new TreeMap<>();
        replay.put(expected.measurementPcr(), new byte[32]);
        for (MeasurementEntry e : evidence.log()) {
            byte[] v = replay.computeIfAbsent(e.pcr(), i -> new byte[32]);
            MessageDigest md = sha256();
            md.update(v);
            md.update(e.eventDigest());
            replay.put(e.pcr(), md.digest());
        }
        replay.forEach((index, value) -> {
            Pcr quoted = evidence.pcr(index);
            if (quoted == null) {
                if (index != expected.measurementPcr()) {
                    out.add(new Reason(Code.LOG_DOES_NOT_REPLAY, null, "the log has events for PCR " + index
                            + ", which is not quoted"));
                }
            } else if (!MessageDigest.isEqual(value, quoted.value())) {
                out.add(new Reason(Code.LOG_DOES_NOT_REPLAY, null, "replaying the " + count(evidence, index)
                        + " events of PCR " + index + " gives " + HEX.formatHex(value) + ", the quoted value is "
                        + quoted.hex() + ": the log was changed, or lacks events"));
            }
        });
    }

    private static long count(Evidence evidence, int pcr) {
        return evidence.log().stream().filter(e -> e.pcr() == pcr).count();
    }

    private static Verdict appraise(List<MeasurementEntry> log, AppraisalPolicy policy,
            Collection<ReferenceValue> references) {
        Map<String, Set<String>> digests = new HashMap<>();
        Set<String> knownComponents = new HashSet<>();
        for (ReferenceValue r : references) {
            digests.computeIfAbsent(r.component() + " " + r.version(), k -> new HashSet<>()).add(r.sha256());
            knownComponents.add(r.component());
        }
        Map<String, MeasurementEntry> latest = new LinkedHashMap<>();
        log.forEach(e -> {
            latest.remove(e.component());
            latest.put(e.component(), e);
        });

        List<Reason> reasons = new ArrayList<>();
        List<String> failing = new ArrayList<>();
        List<String> unknown = new ArrayList<>();
        for (MeasurementEntry e : log) {
            boolean current = latest.get(e.component()) == e;
            Reason finding = appraise(e, digests, knownComponents);
            if (finding == null) {
                continue;
            }
            String id = e.component() + " " + e.version();
            if (current || policy.strictHistory()) {
                reasons.add(finding);
                List<String> list = finding.code() == Code.UNKNOWN_COMPONENT ? unknown : failing;
                if (!list.contains(id)) {
                    list.add(id);
                }
            } else {
                reasons.add(new Reason(Code.SUPERSEDED, e.component(), "superseded by a later measurement of "
                        + e.component() + " (event " + latest.get(e.component()).sequence() + "): event "
                        + e.sequence() + ": " + finding.message()));
            }
        }
        for (String c : policy.required()) {
            if (!latest.containsKey(c)) {
                reasons.add(new Reason(Code.MISSING_COMPONENT, c, "required component " + c + " was not measured"));
                failing.add(c);
            }
        }
        boolean clean = failing.isEmpty() && unknown.isEmpty();
        String level = clean ? policy.levels().highest()
                : policy.levels().min(policy.unknownLevel(), policy.levels().highest());
        return new Verdict(level, true, reasons, failing, unknown);
    }

    private static Reason appraise(MeasurementEntry e, Map<String, Set<String>> digests, Set<String> known) {
        Set<String> expected = digests.get(e.component() + " " + e.version());
        if (expected == null) {
            return new Reason(Code.UNKNOWN_COMPONENT, e.component(), "unknown component " + e.component() + " version "
                    + e.version() + " (" + e.kind().label() + ", sha256 " + e.sha256() + ")"
                    + (known.contains(e.component()) ? ": no reference value for this version" : ""));
        }
        if (!expected.contains(e.sha256())) {
            return new Reason(Code.DIGEST_MISMATCH, e.component(), "digest mismatch for " + e.component() + " version "
                    + e.version() + ": measured " + e.sha256() + ", expected " + String.join(" or ", new java.util.TreeSet<>(expected)));
        }
        return null;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
