package io.ferry.attestation.verifier;

import static io.ferry.attestation.verifier.Quotes.PCR;
import static io.ferry.attestation.verifier.Quotes.entry;
import static io.ferry.attestation.verifier.Quotes.nonce;
import static io.ferry.attestation.verifier.Quotes.sha;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.KeyPair;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.ferry.api.attestation.AppraisalPolicy;
import io.ferry.api.attestation.Evidence;
import io.ferry.api.attestation.MeasurementEntry;
import io.ferry.api.attestation.Reason.Code;
import io.ferry.api.attestation.ReferenceValue;
import io.ferry.api.attestation.SecurityLevels;
import io.ferry.api.attestation.Verdict;
import io.ferry.api.tpm.Pcr;

/** The verifier without a TPM: evidence made by hand, signed by software keys, every reason and every malformation. */
class VerifierTest {

    static final KeyPair AK = Quotes.ec();
    static final KeyPair OTHER_AK = Quotes.ec();

    List<ReferenceValue> refs = List.of(
            new ReferenceValue("qemu-system-x86_64", "7.2.15", sha("qemu")),
            new ReferenceValue("libvirtd", "9.0.0", sha("libvirtd")),
            new ReferenceValue("io.ferry.tpm", "0.1.0", sha("tpm v1")),
            new ReferenceValue("io.ferry.tpm", "0.1.1", sha("tpm v2")));
    AppraisalPolicy policy = AppraisalPolicy.DEFAULT;
    Quotes.Builder honest;

    @BeforeEach
    void setUp() {
        honest = new Quotes.Builder(AK);
        honest.log.add(entry(1, "qemu-system-x86_64", "7.2.15", "qemu"));
        honest.log.add(entry(2, "libvirtd", "9.0.0", "libvirtd"));
        honest.log.add(entry(3, "io.ferry.tpm", "0.1.0", "tpm v1"));
    }

    Expectation expect() {
        return new Expectation(AK.getPublic(), Quotes.AK_NAME, nonce(1), new byte[0], PCR);
    }

    Verdict verify(Evidence e) {
        return Verifier.verify(e, expect(), policy, refs);
    }

    Verdict verify(byte[] attest, byte[] signature) {
        Evidence good = honest.build();
        return verify(new Evidence(good.nonce(), good.binding(), attest, signature, good.pcrs(), good.log(),
                good.akPublic(), good.akName()));
    }

    static void assertUntrusted(Verdict v, Code code, String message) {
        assertThat(v.level()).isEqualTo("untrusted");
        assertThat(v.genuine()).isFalse();
        assertThat(v.has(code)).as(v.explain()).isTrue();
        assertThat(v.explain()).contains(message);
    }

    @Test
    void honestEvidenceIsTrusted() {
        Verdict v = verify(honest.build());
        assertThat(v.level()).isEqualTo("trusted");
        assertThat(v.genuine()).isTrue();
        assertThat(v.reasons()).isEmpty();
        assertThat(v.failing()).isEmpty();
        assertThat(v.unknown()).isEmpty();
    }

    @Test
    void anRsaAttestationKeyWorksToo() {
        KeyPair rsa = Quotes.rsa();
        Quotes.Builder b = new Quotes.Builder(rsa);
        b.log.addAll(honest.log);
        Verdict v = Verifier.verify(b.build(), new Expectation(rsa.getPublic(), null, nonce(1), null, PCR), policy, refs);
        assertThat(v.level()).as(v.explain()).isEqualTo("trusted");
    }

    @Test
    void anEmptyLogReplaysToAResetPcr() {
        honest.log.clear();
        assertThat(verify(honest.build()).level()).isEqualTo("trusted");
        policy = policy.withRequired(Set.of("qemu-system-x86_64"));
        Verdict v = verify(honest.build());
        assertThat(v.level()).isEqualTo("measured");
        assertThat(v.has(Code.MISSING_COMPONENT)).isTrue();
        assertThat(v.failing()).containsExactly("qemu-system-x86_64");
        assertThat(v.explain()).contains("required component qemu-system-x86_64 was not measured");
    }

    @Test
    void anUnknownComponentIsNamedWithItsVersion() {
        honest.log.add(entry(4, "io.ferry.evil", "6.6.6", "evil"));
        honest.log.add(entry(5, "io.ferry.tpm", "0.2.0", "tpm v3"));
        Verdict v = verify(honest.build());
        assertThat(v.level()).isEqualTo("measured");
        assertThat(v.genuine()).isTrue();
        assertThat(v.unknown()).containsExactly("io.ferry.evil 6.6.6", "io.ferry.tpm 0.2.0");
        assertThat(v.failing()).isEmpty();
        assertThat(v.explain()).contains("unknown component io.ferry.evil version 6.6.6")
                .contains("unknown component io.ferry.tpm version 0.2.0").contains("no reference value for this version");
        // the superseded known-good tpm 0.1.0 is not a finding
        assertThat(v.reasons()).hasSize(2);
    }

    @Test
    void aChangedBinaryIsADigestMismatchNamingIt() {
        honest.log.set(0, entry(1, "qemu-system-x86_64", "7.2.15", "patched qemu"));
        Verdict v = verify(honest.build());
        assertThat(v.level()).isEqualTo("measured");
        assertThat(v.failing()).containsExactly("qemu-system-x86_64 7.2.15");
        assertThat(v.has(Code.DIGEST_MISMATCH)).isTrue();
        assertThat(v.explain()).contains("digest mismatch for qemu-system-x86_64 version 7.2.15: measured "
                + sha("patched qemu") + ", expected " + sha("qemu"));
    }

    @Test
    void anUpdateRemediatesAnEarlierFailureUnlessHistoryIsStrict() {
        honest.log.set(2, entry(3, "io.ferry.tpm", "0.1.0", "tampered tpm"));
        honest.log.add(entry(4, "io.ferry.tpm", "0.1.1", "tpm v2"));
        Verdict v = verify(honest.build());
        assertThat(v.level()).isEqualTo("trusted");
        assertThat(v.has(Code.SUPERSEDED)).isTrue();
        assertThat(v.explain()).contains("superseded by a later measurement of io.ferry.tpm (event 4)");

        policy = new AppraisalPolicy(SecurityLevels.DEFAULT, "measured", Set.of(), true);
        Verdict strict = verify(honest.build());
        assertThat(strict.level()).isEqualTo("measured");
        assertThat(strict.failing()).containsExactly("io.ferry.tpm 0.1.0");
    }

    @Test
    void levelsAreConfigurable() {
        policy = new AppraisalPolicy(new SecurityLevels(List.of("red", "amber", "green", "gold")), "red", Set.of(), false);
        assertThat(verify(honest.build()).level()).isEqualTo("gold");
        honest.log.add(entry(4, "unknown-thing", "1", "x"));
        assertThat(verify(honest.build()).level()).isEqualTo("red");
        assertThat(policy.levels().atLeast("green", "amber")).isTrue();
        assertThat(policy.levels().atLeast("amber", "green")).isFalse();
        assertThatThrownBy(() -> new AppraisalPolicy(SecurityLevels.DEFAULT, "purple", Set.of(), false))
                .hasMessageContaining("unknown security level 'purple'");
    }

    @Test
    void aTamperedLogDoesNotReplay() {
        honest.sentLog = new ArrayList<>(honest.log);
        honest.sentLog.set(0, entry(1, "qemu-system-x86_64", "7.2.15", "what the verifier should believe"));
        assertUntrusted(verify(honest.build()), Code.LOG_DOES_NOT_REPLAY, "replaying the 3 events of PCR 23 gives");
    }

    @Test
    void aRenamedEventDoesNotReplay() {
        honest.sentLog = new ArrayList<>(honest.log);
        MeasurementEntry e = honest.log.get(2);
        honest.sentLog.set(2, new MeasurementEntry(3, PCR, e.kind(), "io.ferry.other", e.version(), e.sha256(), e.time()));
        assertUntrusted(verify(honest.build()), Code.LOG_DOES_NOT_REPLAY, "the log was changed, or lacks events");
    }

    @Test
    void aDroppedOrReorderedEventDoesNotReplay() {
        honest.sentLog = honest.log.subList(0, 2);
        assertUntrusted(verify(honest.build()), Code.LOG_DOES_NOT_REPLAY, "replaying the 2 events");
        honest.sentLog = List.of(honest.log.get(1), honest.log.get(0), honest.log.get(2));
        assertUntrusted(verify(honest.build()), Code.LOG_DOES_NOT_REPLAY, "replaying");
    }

    @Test
    void eventsForAPcrThatIsNotQuotedDoNotReplay() {
        honest.sentLog = new ArrayList<>(honest.log);
        MeasurementEntry e = honest.log.get(0);
        honest.sentLog.add(new MeasurementEntry(4, 16, e.kind(), "x", "1", e.sha256(), e.time()));
        assertUntrusted(verify(honest.build()), Code.LOG_DOES_NOT_REPLAY, "events for PCR 16, which is not quoted");
    }

    @Test
    void aWrongOrStaleNonceIsRefused() {
        honest.nonce = nonce(2);
        assertUntrusted(verify(honest.build()), Code.WRONG_NONCE, "the evidence answers another nonce");
        // an old quote re-sent with the new nonce claimed in the clear does not help
        honest.nonce = nonce(1);
        honest.extra = Evidence.qualifyingData(nonce(2), new byte[0]);
        assertUntrusted(verify(honest.build()), Code.WRONG_NONCE, "the quote was made for other data");
    }

    @Test
    void aQuoteBoundToAnotherChannelIsRefused() {
        byte[] mine = Quotes.hash("channel to the real target".getBytes());
        byte[] relayed = Quotes.hash("channel to the relay".getBytes());
        honest.binding = relayed;
        Verdict v = Verifier.verify(honest.build(), new Expectation(AK.getPublic(), null, nonce(1), mine, PCR), policy, refs);
        assertUntrusted(v, Code.WRONG_NONCE, "the quote is bound to another channel");
        honest.binding = mine;
        v = Verifier.verify(honest.build(), new Expectation(AK.getPublic(), null, nonce(1), mine, PCR), policy, refs);
        assertThat(v.level()).isEqualTo("trusted");
        // unbound evidence does not satisfy a bound expectation
        honest.binding = new byte[0];
        v = Verifier.verify(honest.build(), new Expectation(AK.getPublic(), null, nonce(1), mine, PCR), policy, refs);
        assertThat(v.has(Code.WRONG_NONCE)).isTrue();
    }

    @Test
    void anotherAttestationKeysQuoteIsABadSignature() {
        honest.signer = OTHER_AK;
        assertUntrusted(verify(honest.build()), Code.BAD_SIGNATURE, "does not verify with the enrolled attestation key");
        assertUntrusted(verify(new Quotes.Builder(Quotes.rsa()).build()), Code.BAD_SIGNATURE, "made by another key");
    }

    @Test
    void anyChangedByteOfTheQuoteIsRefused() {
        Evidence good = honest.build();
        byte[] a = good.attest();
        for (int i = 0; i < a.length; i++) {
            byte[] changed = a.clone();
            changed[i] ^= 0x01;
            Verdict v = verify(changed, good.signature());
            assertThat(v.genuine()).as("byte " + i).isFalse();
            assertThat(v.level()).isEqualTo("untrusted");
        }
        byte[] sig = good.signature();
        for (int i = 0; i < sig.length; i++) {
            byte[] changed = sig.clone();
            changed[i] ^= 0x01;
            assertThat(verify(a, changed).genuine()).as("signature byte " + i).isFalse();
        }
    }

    @Test
    void pcrValuesThatDoNotMatchTheDigestAreRefused() {
        Evidence good = honest.build();
        honest.quotedDigest = Verifier.pcrDigest(good.pcrs());
        honest.pcrs = List.of(new Pcr(PCR, new byte[32]));
        honest.log.clear(); // the log replays to the values sent: only the quote's digest disagrees
        Verdict v = verify(honest.build());
        assertUntrusted(v, Code.PCR_DIGEST_MISMATCH, "the PCR values sent hash to");
    }

    @Test
    void aSelectionThatDiffersFromTheValuesOrLacksTheMeasurementPcrIsRefused() {
        honest.quotedPcrs = List.of(16, PCR);
        assertUntrusted(verify(honest.build()), Code.PCR_SELECTION, "the quote selects PCRs [16, 23], the evidence sends values of PCRs [23]");
        honest.quotedPcrs = null;
        honest.pcrs = List.of(new Pcr(16, new byte[32]));
        honest.log.clear();
        assertUntrusted(verify(honest.build()), Code.PCR_SELECTION, "does not include the measurement PCR 23");
    }

    @Test
    void wrongMagicTypeOrSignerIsNotAQuote() {
        honest.magic = 0x12345678L;
        assertUntrusted(verify(honest.build()), Code.NOT_A_QUOTE, "magic is 0x12345678");
        honest.magic = TpmsAttest.TPM_GENERATED;
        honest.type = 0x8017; // TPM_ST_ATTEST_CERTIFY
        assertUntrusted(verify(honest.build()), Code.NOT_A_QUOTE, "type is 0x8017, not TPM_ST_ATTEST_QUOTE");
        honest.type = TpmsAttest.TPM_ST_ATTEST_QUOTE;
        Verdict v = Verifier.verify(honest.build(), new Expectation(AK.getPublic(), new byte[] { 0, 0x0b, 1 }, nonce(1),
                null, PCR), policy, refs);
        assertUntrusted(v, Code.NOT_A_QUOTE, "not the enrolled attestation key");
    }

    @Test
    void everyTruncationOfTheQuoteIsMalformed() {
        Evidence good = honest.build();
        byte[] a = good.attest();
        for (int n = 1; n < a.length; n++) {
            byte[] prefix = Arrays.copyOf(a, n);
            Verdict v = verify(prefix, Quotes.sign(AK, prefix));
            assertThat(v.has(Code.MALFORMED_EVIDENCE)).as("length " + n + ": " + v.explain()).isTrue();
            assertThat(v.explain()).contains("truncated");
        }
        assertThatThrownBy(() -> TpmsAttest.parse(new byte[0])).hasMessageContaining("empty");
    }

    @Test
    void trailingBytesAndOversizedFieldsAreMalformed() {
        byte[] a = honest.build().attest();
        byte[] longer = Arrays.copyOf(a, a.length + 1);
        assertUntrusted(verify(longer, Quotes.sign(AK, longer)), Code.MALFORMED_EVIDENCE, "1 trailing bytes after offset " + a.length);

        byte[] bigName = Quotes.attest(TpmsAttest.TPM_GENERATED, 0x8018, new byte[67], new byte[32], List.of(PCR), new byte[32]);
        assertUntrusted(verify(bigName, Quotes.sign(AK, bigName)), Code.MALFORMED_EVIDENCE, "qualifiedSigner has 67 bytes, more than 66");
        byte[] bigDigest = Quotes.attest(TpmsAttest.TPM_GENERATED, 0x8018, Quotes.AK_NAME, new byte[32], List.of(PCR), new byte[65]);
        assertUntrusted(verify(bigDigest, Quotes.sign(AK, bigDigest)), Code.MALFORMED_EVIDENCE, "pcrDigest has 65 bytes, more than 64");

        // a size field that claims more than is there
        byte[] lying = a.clone();
        lying[6] = (byte) 0x00;
        lying[7] = (byte) 0x40; // qualifiedSigner size 64, but 34 bytes follow before extraData
        TpmsAttest.parse(Arrays.copyOf(a, a.length)); // the original parses
        assertThat(verify(lying, Quotes.sign(AK, lying)).has(Code.MALFORMED_EVIDENCE)).isTrue();

        assertThatThrownBy(() -> new Evidence(nonce(1), new byte[0], new byte[Evidence.MAX_ATTEST_BYTES + 1],
                new byte[8], List.of(new Pcr(PCR, new byte[32])), List.of(), new byte[8], new byte[0]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must have 1 to 1024 bytes, not 1025");
        assertThatThrownBy(() -> TpmsAttest.parse(new byte[2000])).hasMessageContaining("more than 1024");
    }

    @Test
    void manyBanksBadSafeFlagAndPcrsBeyond23AreMalformed() {
        byte[] a = honest.build().attest();
        int selectAt = a.length - 2 - 32 - 3 - 1 - 2 - 4; // count of the PCR selection
        byte[] banks = a.clone();
        banks[selectAt + 3] = 17;
        assertThat(verify(banks, Quotes.sign(AK, banks)).explain()).contains("pcrSelect lists 17 banks, more than 16");
        byte[] beyond = a.clone();
        beyond[selectAt + 4 + 2] = 5; // sizeofSelect 5
        assertThat(verify(beyond, Quotes.sign(AK, beyond)).explain()).contains("sizeofSelect is 5, more than 4");
        byte[] safe = a.clone();
        safe[selectAt - 9] = 2;
        assertThat(verify(safe, Quotes.sign(AK, safe)).explain()).contains("clockInfo.safe is 2");
    }

    @Test
    void garbageIsRefusedWithoutAnException() {
        Random random = new Random(42);
        Evidence good = honest.build();
        for (int i = 0; i < 5000; i++) {
            byte[] junk = new byte[1 + random.nextInt(300)];
            random.nextBytes(junk);
            if (random.nextBoolean() && junk.length > 6) { // past the magic and type, to reach deeper fields
                System.arraycopy(good.attest(), 0, junk, 0, 6);
            }
            byte[] sig = random.nextInt(4) == 0 ? Quotes.sign(AK, junk) : junkSignature(random);
            Verdict v = verify(junk, sig);
            assertThat(v.genuine()).isFalse();
            assertThat(v.level()).isEqualTo("untrusted");
            assertThat(v.reasons()).hasSize(1);
        }
    }

    private static byte[] junkSignature(Random random) {
        byte[] b = new byte[1 + random.nextInt(100)];
        random.nextBytes(b);
        return b;
    }

    @Test
    void malformedSignaturesAreMalformed() {
        Evidence good = honest.build();
        byte[] sig = good.signature();
        for (int n = 1; n < sig.length; n++) {
            assertThat(verify(good.attest(), Arrays.copyOf(sig, n)).has(Code.MALFORMED_EVIDENCE)).as("length " + n).isTrue();
        }
        byte[] sha1 = sig.clone();
        sha1[3] = 0x04;
        assertThat(verify(good.attest(), sha1).explain()).contains("hash is 0x0004, not SHA-256");
        byte[] hmac = sig.clone();
        hmac[1] = 0x05;
        assertThat(verify(good.attest(), hmac).explain()).contains("sigAlg is 0x0005");
    }

    @Test
    void evidenceValidatesItsShape() {
        Evidence good = honest.build();
        assertThatThrownBy(() -> new Evidence(new byte[16], good.binding(), good.attest(), good.signature(), good.pcrs(),
                good.log(), good.akPublic(), good.akName())).hasMessageContaining("the nonce must have 32 bytes, not 16");
        assertThatThrownBy(() -> new Evidence(good.nonce(), new byte[257], good.attest(), good.signature(), good.pcrs(),
                good.log(), good.akPublic(), good.akName())).hasMessageContaining("binding must have 0 to 256 bytes");
        assertThatThrownBy(() -> new Evidence(good.nonce(), good.binding(), good.attest(), good.signature(),
                List.of(new Pcr(23, new byte[32]), new Pcr(16, new byte[32])), good.log(), good.akPublic(), good.akName()))
                .hasMessageContaining("increasing index order");
        assertThatThrownBy(() -> new Evidence(good.nonce(), good.binding(), good.attest(), good.signature(),
                List.of(new Pcr(23, new byte[20])), good.log(), good.akPublic(), good.akName()))
                .hasMessageContaining("32-byte SHA-256 value, not 20");
        assertThatThrownBy(() -> entry(1, "has space", "1", "x")).hasMessageContaining("without spaces");
        assertThatThrownBy(() -> entry(1, "a|b", "1", "x")).hasMessageContaining("or '|'");
        assertThatThrownBy(() -> new ReferenceValue("x", "1", "ABCD")).hasMessageContaining("64 lower-case hex digits");
        byte[] n = good.nonce();
        n[0] ^= 1;
        assertThat(good.nonce()).isNotEqualTo(n); // defensive copies
    }
}
