package io.ferry.attestation.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import io.ferry.api.attestation.AppraisalPolicy;
import io.ferry.api.attestation.Evidence;
import io.ferry.api.attestation.MeasurementEntry;
import io.ferry.api.attestation.Reason.Code;
import io.ferry.api.attestation.ReferenceValue;
import io.ferry.api.attestation.Verdict;
import io.ferry.attestation.verifier.Expectation;
import io.ferry.attestation.verifier.TpmsAttest;
import io.ferry.attestation.verifier.Verifier;
import io.ferry.tpm.internal.TssTpm;
import io.ferry.tpm.testing.Swtpm;

/**
 * Measure, quote and verify with a real TPM (swtpm), the verifier seeing only what would travel: the
 * evidence, the enrolled AK's public key, the nonce it issued and the reference values.
 */
class AttestationSwtpmTest {

    @RegisterExtension
    static final Swtpm SWTPM = new Swtpm();
    @RegisterExtension
    static final Swtpm OTHER = new Swtpm();

    /** The API cannot reset a PCR: every test measures into a PCR of its own (all start at zero on swtpm). */
    static int nextPcr = 8;

    @TempDir
    Path dir;
    TssTpm tpm;
    int pcr;
    Path qemu;
    Path libvirtd;
    TpmMeasurer agent;
    List<ReferenceValue> refs;
    final SecureRandom random = new SecureRandom();

    @BeforeEach
    void setUp() throws Exception {
        tpm = TssTpm.swtpm(SWTPM.host(), SWTPM.port());
        pcr = nextPcr++;
        qemu = Files.writeString(dir.resolve("qemu-system-x86_64"), "a stand-in for QEMU");
        libvirtd = Files.writeString(dir.resolve("libvirtd"), "a stand-in for libvirtd");
        agent = new TpmMeasurer(tpm, null, new TpmMeasurer.Settings(pcr, List.of(), dir.resolve("log"),
                List.of(qemu, libvirtd), true, List.of("io.ferry")), Clock.systemUTC());
        refs = List.of(new ReferenceValue("qemu-system-x86_64", "unknown", sha(qemu)),
                new ReferenceValue("libvirtd", "unknown", sha(libvirtd)));
    }

    @AfterEach
    void tearDown() {
        tpm.close();
    }

    static String sha(Path p) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
    }

    byte[] nonce() {
        byte[] n = new byte[Evidence.NONCE_BYTES];
        random.nextBytes(n);
        return n;
    }

    Verdict verify(Evidence e, byte[] nonce, byte[] binding) {
        Expectation x = new Expectation(tpm.attestationKey().key(),
                Expectation.qualifiedNameOfPrimary(Expectation.TPM_RH_ENDORSEMENT, tpm.attestationKey().name()), nonce,
                binding, pcr);
        return Verifier.verify(e, x, AppraisalPolicy.DEFAULT.withRequired(Set.of("qemu-system-x86_64", "libvirtd")), refs);
    }

    @Test
    void measureQuoteVerifyIsTrusted() {
        assertThat(agent.measureAll()).extracting(MeasurementEntry::component).containsExactly("qemu-system-x86_64", "libvirtd");
        byte[] nonce = nonce();
        Evidence e = agent.attest(nonce, new byte[0]);
        assertThat(e.pcrs()).singleElement().satisfies(p -> assertThat(p.index()).isEqualTo(pcr));
        assertThat(e.log()).hasSize(2);
        assertThat(e.akName()).isEqualTo(tpm.attestationKey().name());
        Verdict v = verify(e, nonce, new byte[0]);
        assertThat(v.level()).as(v.explain()).isEqualTo("trusted");
        assertThat(v.genuine()).isTrue();
        assertThat(v.reasons()).isEmpty();
        TpmsAttest a = TpmsAttest.parse(e.attest());
        assertThat(a.extraData()).isEqualTo(Evidence.qualifyingData(nonce, new byte[0]));
    }

    @Test
    void aChangedBinaryIsNamedInTheVerdict() throws Exception {
        agent.measureAll();
        Files.writeString(qemu, "a patched QEMU");
        assertThat(agent.measureAll()).singleElement().satisfies(m -> assertThat(m.component()).isEqualTo("qemu-system-x86_64"));
        byte[] nonce = nonce();
        Verdict v = verify(agent.attest(nonce, new byte[0]), nonce, new byte[0]);
        assertThat(v.genuine()).isTrue();
        assertThat(v.level()).isEqualTo("measured");
        assertThat(v.failing()).containsExactly("qemu-system-x86_64 unknown");
        assertThat(v.explain()).contains("digest mismatch for qemu-system-x86_64 version unknown: measured " + sha(qemu));
    }

    @Test
    void aTamperedLogDoesNotReplay() throws Exception {
        Files.writeString(qemu, "a patched QEMU");
        agent.measureAll();
        byte[] nonce = nonce();
        Evidence e = agent.attest(nonce, new byte[0]);
        // the agent (or a man in the middle) claims the known-good digest for QEMU
        List<MeasurementEntry> lie = new ArrayList<>(e.log());
        MeasurementEntry q = lie.get(0);
        lie.set(0, new MeasurementEntry(q.sequence(), q.pcr(), q.kind(), q.component(), q.version(), refs.get(0).sha256(), q.time()));
        Evidence forged = new Evidence(e.nonce(), e.binding(), e.attest(), e.signature(), e.pcrs(), lie, e.akPublic(), e.akName());
        Verdict v = verify(forged, nonce, new byte[0]);
        assertThat(v.level()).isEqualTo("untrusted");
        assertThat(v.has(Code.LOG_DOES_NOT_REPLAY)).as(v.explain()).isTrue();
    }

    @Test
    void aWrongNonceOrChannelIsRefused() {
        agent.measureAll();
        byte[] nonce = nonce();
        byte[] channel = new byte[32];
        random.nextBytes(channel);
        Evidence e = agent.attest(nonce, channel);
        assertThat(verify(e, nonce, channel).level()).isEqualTo("trusted");
        Verdict stale = verify(e, nonce(), channel);
        assertThat(stale.has(Code.WRONG_NONCE)).as(stale.explain()).isTrue();
        assertThat(stale.level()).isEqualTo("untrusted");
        Verdict relayed = verify(e, nonce, new byte[32]);
        assertThat(relayed.has(Code.WRONG_NONCE)).isTrue();
        assertThat(relayed.explain()).contains("bound to another channel");
    }

    @Test
    void evidenceFromAnotherTpmsAkIsABadSignature() {
        agent.measureAll();
        TssTpm other = TssTpm.swtpm(OTHER.host(), OTHER.port());
        try {
            TpmMeasurer impostor = new TpmMeasurer(other, null, new TpmMeasurer.Settings(pcr, List.of(),
                    dir.resolve("other-log"), List.of(qemu, libvirtd), true, List.of("io.ferry")), Clock.systemUTC());
            impostor.measureAll();
            byte[] nonce = nonce();
            Evidence e = impostor.attest(nonce, new byte[0]);
            Verdict v = verify(e, nonce, new byte[0]);
            assertThat(v.level()).isEqualTo("untrusted");
            assertThat(v.has(Code.BAD_SIGNATURE)).as(v.explain()).isTrue();
        } finally {
            other.close();
        }
    }

    @Test
    void bootPcrsAreQuotedAlongside() {
        TpmMeasurer withBoot = new TpmMeasurer(tpm, null, new TpmMeasurer.Settings(pcr, List.of(0, 7), dir.resolve("log"),
                List.of(qemu, libvirtd), false, List.of("io.ferry")), Clock.systemUTC());
        withBoot.measureAll();
        byte[] nonce = nonce();
        Evidence e = withBoot.attest(nonce, new byte[0]);
        assertThat(e.pcrs()).extracting(p -> p.index()).containsExactly(0, 7, pcr);
        assertThat(verify(e, nonce, new byte[0]).level()).isEqualTo("trusted");
        assertThatThrownBy(() -> withBoot.attest(new byte[8], new byte[0])).hasMessageContaining("the nonce must have 32 bytes");
    }
}
