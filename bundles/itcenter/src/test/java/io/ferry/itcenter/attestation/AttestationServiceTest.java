package io.ferry.itcenter.attestation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.sql.PreparedStatement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.ferry.api.attestation.AppraisalPolicy;
import io.ferry.api.attestation.AttestationRecord;
import io.ferry.api.attestation.AttestationResult;
import io.ferry.api.attestation.Evidence;
import io.ferry.api.attestation.MeasurementEntry;
import io.ferry.api.attestation.Reason.Code;
import io.ferry.api.attestation.Remediation;
import io.ferry.api.attestation.SecurityLevels;
import io.ferry.api.itcenter.AgentRegistration;
import io.ferry.api.itcenter.AuditEvent;
import io.ferry.api.itcenter.AuditQuery;
import io.ferry.api.itcenter.ItCenter;
import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.itcenter.Release;
import io.ferry.attestation.verifier.SoftwareAttester;
import io.ferry.attestation.wire.EvidenceSubmission;
import io.ferry.attestation.wire.NonceGrant;
import io.ferry.attestation.wire.NonceRequest;
import io.ferry.itcenter.internal.ItCenterTestAccess;
import io.ferry.itcenter.internal.Store;

/** Nonces, verdicts, remediation and their record, on the embedded database, with software-signed quotes. */
class AttestationServiceTest {

    static final class TestClock extends Clock {
        volatile Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }
    }

    static final AttestationService.Settings SETTINGS = new AttestationService.Settings(
            new AppraisalPolicy(SecurityLevels.DEFAULT, "measured", Set.of("qemu-system-x86_64"), false),
            SoftwareAttester.PCR, Duration.ofSeconds(60), Map.of(), "mvn:io.ferry/ferry-features/0.1.0/xml/features");

    @TempDir
    Path dir;
    final TestClock clock = new TestClock();
    final List<Release> releases = new ArrayList<>();
    Store store;
    ItCenter itc;
    AttestationService service;

    String laptop;
    String desktop;
    SoftwareAttester laptopTpm;
    SoftwareAttester desktopTpm;

    @BeforeEach
    void setUp() throws Exception {
        open();
        laptopTpm = honestAgent();
        desktopTpm = honestAgent();
        laptop = register("laptop", laptopTpm);
        desktop = register("desktop", desktopTpm);
        publish("qemu-system-x86_64", "7.2.15", SoftwareAttester.digestOf("qemu 7.2.15"), null);
        publish("io.ferry.policy", "0.1.0", SoftwareAttester.digestOf("policy 0.1.0"), "ferry-policy/0.1.0");
        publish("io.ferry.policy", "0.2.0", SoftwareAttester.digestOf("policy 0.2.0"), "ferry-policy/0.2.0");
    }

    void open() {
        store = ItCenterTestAccess.open("jdbc:h2:file:" + dir.resolve("registry").toAbsolutePath());
        itc = ItCenterTestAccess.itCenter(store, clock);
        service = new AttestationService(store, SETTINGS, clock, () -> List.copyOf(releases));
    }

    @AfterEach
    void close() {
        store.close();
    }

    static SoftwareAttester honestAgent() {
        SoftwareAttester a = new SoftwareAttester();
        a.measure("qemu-system-x86_64", "7.2.15", "qemu 7.2.15");
        a.measure("io.ferry.policy", "0.1.0", "policy 0.1.0");
        return a;
    }

    String register(String name, SoftwareAttester tpm) throws Exception {
        KeyPair tls = SoftwareAttester.newKey();
        String pem = "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(tls.getPublic().getEncoded()) + "\n-----END PUBLIC KEY-----\n";
        String id = itc.registerAgent(new AgentRegistration(name, "alice", "home", pem), "test").agent().id();
        if (tpm != null) {
            store.transaction(t -> {
                try (PreparedStatement ps = t.connection().prepareStatement("UPDATE agent SET ak_public = ? WHERE id = ?")) {
                    ps.setString(1, Base64.getEncoder().encodeToString(tpm.akPublic()));
                    ps.setString(2, id);
                    ps.executeUpdate();
                }
                return null;
            });
        }
        return id;
    }

    void publish(String component, String version, String sha, String release) {
        store.transaction(t -> {
            try (PreparedStatement ps = t.connection().prepareStatement("INSERT INTO reference_value "
                    + "(component, version, sha256, release_name, published_at) VALUES (?, ?, ?, ?, ?)")) {
                ps.setString(1, component);
                ps.setString(2, version);
                ps.setString(3, sha);
                ps.setString(4, release == null ? "system" : release);
                ps.setObject(5, clock.instant().atOffset(ZoneOffset.UTC));
                ps.executeUpdate();
            }
            return null;
        });
        clock.now = clock.now.plusMillis(1);
        if (release != null && release.contains("/")) {
            releases.add(new Release(release.split("/")[0], release.split("/")[1],
                    "mvn:io.ferry/ferry-features/" + release.split("/")[1] + "/xml/features", clock.instant(), "test"));
        }
    }

    /** The agent attests itself: a nonce for it, its evidence, the verdict. */
    AttestationResult selfAttest(String agent, SoftwareAttester tpm, String required) {
        NonceGrant g = service.issueNonce(agent, new NonceRequest(null, null));
        return service.submit(agent, new EvidenceSubmission(null, required, tpm.attest(g.nonce(), g.binding())));
    }

    List<AuditEvent> verdictEvents(String agent) {
        return itc.audit(new AuditQuery(agent, null, "attestation.verdict", null, 100));
    }

    @Test
    void anHonestAgentIsTrustedAndTheVerdictIsRecordedAndAudited() {
        AttestationResult r = selfAttest(laptop, laptopTpm, "trusted");

        assertThat(r.verdict().level()).isEqualTo("trusted");
        assertThat(r.verdict().genuine()).isTrue();
        assertThat(r.qualifies()).isTrue();
        assertThat(r.remediation()).isEqualTo(Remediation.NONE);
        assertThat(itc.agent(laptop).orElseThrow().lastVerdict()).startsWith("trusted at ");
        assertThat(service.latest(laptop)).hasValueSatisfying(rec -> {
            assertThat(rec.requester()).isEqualTo(laptop);
            assertThat(rec.peer()).isFalse();
            assertThat(rec.result()).isEqualTo(r);
        });
        assertThat(verdictEvents(laptop)).singleElement()
                .satisfies(e -> assertThat(e.detail()).startsWith("level=trusted genuine=true required=trusted qualifies=true"));
    }

    @Test
    void aGenuineVerdictRecordsThePcrValuesItProvedAndOneThatIsNotRecordsNone() throws Exception {
        NonceGrant g = service.issueNonce(laptop, new NonceRequest(null, null));
        Evidence e = laptopTpm.attest(g.nonce(), g.binding());
        assertThat(service.submit(laptop, new EvidenceSubmission(null, null, e)).verdict().genuine()).isTrue();
        ProvedPcrs.Latest proved = store.transaction(t -> ProvedPcrs.latest(t.connection(), laptop)).orElseThrow();
        assertThat(proved.genuine()).isTrue();
        assertThat(proved.level()).isEqualTo("trusted");
        assertThat(proved.pcrs()).isEqualTo(e.pcrs()).isNotEmpty();
        // replayed: not genuine, proves nothing, and it is now the latest
        assertThat(service.submit(laptop, new EvidenceSubmission(null, null, e)).verdict().genuine()).isFalse();
        ProvedPcrs.Latest replayed = store.transaction(t -> ProvedPcrs.latest(t.connection(), laptop)).orElseThrow();
        assertThat(replayed.seq()).isGreaterThan(proved.seq());
        assertThat(replayed.genuine()).isFalse();
        assertThat(replayed.pcrs()).isEmpty();
        java.util.Optional<ProvedPcrs.Latest> none = store.transaction(t -> ProvedPcrs.latest(t.connection(), desktop));
        assertThat(none).isEmpty();
    }

    @Test
    void aNonceIsSingleUseAndReplayedEvidenceIsRefused() {
        NonceGrant g = service.issueNonce(laptop, new NonceRequest(null, null));
        Evidence e = laptopTpm.attest(g.nonce(), g.binding());
        assertThat(service.submit(laptop, new EvidenceSubmission(null, null, e)).verdict().level()).isEqualTo("trusted");

        AttestationResult again = service.submit(laptop, new EvidenceSubmission(null, null, e));
        assertThat(again.verdict().level()).isEqualTo("untrusted");
        assertThat(again.verdict().has(Code.STALE_NONCE)).isTrue();
        assertThat(again.verdict().explain()).contains("used already", "replayed evidence");
        assertThat(verdictEvents(laptop)).hasSize(2).last()
                .satisfies(ev -> assertThat(ev.detail()).contains("STALE_NONCE"));

        // the same quote relabelled with a fresh nonce: its signed qualifying data still answers the old one
        NonceGrant fresh = service.issueNonce(laptop, new NonceRequest(null, null));
        Evidence relabelled = new Evidence(fresh.nonce(), e.binding(), e.attest(), e.signature(), e.pcrs(), e.log(),
                e.akPublic(), e.akName());
        AttestationResult r = service.submit(laptop, new EvidenceSubmission(null, null, relabelled));
        assertThat(r.verdict().has(Code.WRONG_NONCE)).isTrue();
        assertThat(r.verdict().genuine()).isFalse();
    }

    @Test
    void concurrentSubmissionsOfOneNonceLetExactlyOneThrough() throws Exception {
        NonceGrant g = service.issueNonce(laptop, new NonceRequest(null, null));
        Evidence e = laptopTpm.attest(g.nonce(), g.binding());
        int n = 8;
        ExecutorService pool = Executors.newFixedThreadPool(n);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<AttestationResult>> results = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            results.add(pool.submit((Callable<AttestationResult>) () -> {
                start.await();
                return service.submit(laptop, new EvidenceSubmission(null, null, e));
            }));
        }
        start.countDown();
        int trusted = 0;
        int stale = 0;
        for (Future<AttestationResult> f : results) {
            AttestationResult r = f.get();
            if (r.verdict().genuine()) {
                trusted++;
            } else if (r.verdict().has(Code.STALE_NONCE)) {
                stale++;
            }
        }
        pool.shutdown();
        assertThat(trusted).isEqualTo(1);
        assertThat(stale).isEqualTo(n - 1);
        assertThat(verdictEvents(laptop)).hasSize(n);
    }

    @Test
    void anExpiredNonceIsRefused() {
        NonceGrant g = service.issueNonce(laptop, new NonceRequest(null, null));
        assertThat(g.expiresAt()).isEqualTo(clock.instant().plusSeconds(60));
        Evidence e = laptopTpm.attest(g.nonce(), g.binding());
        clock.now = clock.now.plusSeconds(61);
        AttestationResult r = service.submit(laptop, new EvidenceSubmission(null, null, e));
        assertThat(r.verdict().level()).isEqualTo("untrusted");
        assertThat(r.verdict().has(Code.STALE_NONCE)).isTrue();
        assertThat(r.verdict().explain()).contains("expired");
    }

    @Test
    void noncesSurviveARestartAndStayUsed() {
        NonceGrant open = service.issueNonce(laptop, new NonceRequest(null, null));
        NonceGrant used = service.issueNonce(laptop, new NonceRequest(null, null));
        Evidence usedEvidence = laptopTpm.attest(used.nonce(), used.binding());
        assertThat(service.submit(laptop, new EvidenceSubmission(null, null, usedEvidence)).verdict().genuine()).isTrue();
        store.close();
        open();

        assertThat(service.submit(laptop, new EvidenceSubmission(null, null, usedEvidence)).verdict()
                .has(Code.STALE_NONCE)).isTrue();
        assertThat(service.submit(laptop, new EvidenceSubmission(null, null, laptopTpm.attest(open.nonce(),
                open.binding()))).verdict().level()).isEqualTo("trusted");
    }

    @Test
    void aNonceIsForOneAgentAndOneCaller() {
        // the laptop's own nonce, answered with the desktop's evidence sent as the desktop's
        NonceGrant g = service.issueNonce(laptop, new NonceRequest(null, null));
        AttestationResult r = service.submit(laptop, new EvidenceSubmission(desktop, null,
                desktopTpm.attest(g.nonce(), g.binding())));
        assertThat(r.agentId()).isEqualTo(desktop);
        assertThat(r.verdict().has(Code.WRONG_NONCE)).isTrue();
        assertThat(r.verdict().explain()).contains("issued for agent " + laptop);
        // a failed attempt by someone else does not overwrite the desktop's state
        assertThat(itc.agent(desktop).orElseThrow().lastVerdict()).isNull();

        // another agent cannot use (nor burn) the laptop's nonce
        NonceGrant mine = service.issueNonce(laptop, new NonceRequest(null, null));
        Evidence e = laptopTpm.attest(mine.nonce(), mine.binding());
        AttestationResult stolen = service.submit(desktop, new EvidenceSubmission(laptop, null, e));
        assertThat(stolen.verdict().explain()).contains("not the caller's to use");
        assertThat(service.submit(laptop, new EvidenceSubmission(null, null, e)).verdict().level()).isEqualTo("trusted");
    }

    @Test
    void peerNoncesAreBoundAndAnotherBindingIsRefused() {
        byte[] channel = "binding of the laptop-desktop channel".getBytes();
        byte[] relay = "binding of a relay's channel".getBytes();
        NonceGrant g = service.issueNonce(laptop, new NonceRequest(desktop, channel));
        assertThat(g.agent()).isEqualTo(desktop);
        assertThat(g.binding()).isEqualTo(channel);

        // the desktop quotes over another channel's binding (a relay): refused
        Evidence relayed = desktopTpm.attest(g.nonce(), relay);
        AttestationResult r = service.submit(laptop, new EvidenceSubmission(desktop, "trusted", relayed));
        assertThat(r.verdict().has(Code.WRONG_NONCE)).isTrue();
        assertThat(r.verdict().explain()).contains("bound to another channel");
        assertThat(r.qualifies()).isFalse();
        assertThat(r.remediation().features()).isEmpty();
        assertThat(r.remediation().unresolved()).singleElement().asString().contains("not genuine");

        NonceGrant g2 = service.issueNonce(laptop, new NonceRequest(desktop, channel));
        AttestationResult ok = service.submit(laptop, new EvidenceSubmission(desktop, "trusted",
                desktopTpm.attest(g2.nonce(), channel)));
        assertThat(ok.qualifies()).isTrue();
        assertThat(service.latest(desktop)).hasValueSatisfying(rec -> {
            assertThat(rec.peer()).isTrue();
            assertThat(rec.requester()).isEqualTo(laptop);
        });
        assertThat(itc.agent(desktop).orElseThrow().lastVerdict()).startsWith("trusted");
    }

    @Test
    void aQuoteByAnotherKeyIsRefused() {
        laptopTpm.signer = SoftwareAttester.newKey();
        AttestationResult r = selfAttest(laptop, laptopTpm, null);
        assertThat(r.verdict().level()).isEqualTo("untrusted");
        assertThat(r.verdict().has(Code.BAD_SIGNATURE)).isTrue();
        assertThat(verdictEvents(laptop)).singleElement().satisfies(e -> assertThat(e.detail()).contains("BAD_SIGNATURE"));
    }

    @Test
    void aLogThatDoesNotReplayIsRefused() {
        List<MeasurementEntry> log = laptopTpm.log();
        laptopTpm.sentLog = log.subList(0, 1);
        AttestationResult r = selfAttest(laptop, laptopTpm, "trusted");
        assertThat(r.verdict().has(Code.LOG_DOES_NOT_REPLAY)).isTrue();
        assertThat(r.verdict().level()).isEqualTo("untrusted");
    }

    @Test
    void anUnknownBundleLowersTheLevelAndTheRemediationNamesItsFeature() {
        laptopTpm.measure("io.ferry.policy", "0.1.5", "a build nobody published");
        AttestationResult r = selfAttest(laptop, laptopTpm, "trusted");

        assertThat(r.verdict().genuine()).isTrue();
        assertThat(r.verdict().level()).isEqualTo("measured");
        assertThat(r.verdict().unknown()).containsExactly("io.ferry.policy 0.1.5");
        assertThat(r.qualifies()).isFalse();
        assertThat(r.remediation().features()).containsExactly(
                new Remediation.FeatureUpdate("io.ferry.policy", "ferry-policy", "0.2.0", "ferry-policy/0.2.0"));
        assertThat(r.remediation().repository()).isEqualTo("mvn:io.ferry/ferry-features/0.2.0/xml/features");
        assertThat(verdictEvents(laptop)).singleElement().satisfies(e -> assertThat(e.detail())
                .contains("level=measured", "UNKNOWN_COMPONENT", "io.ferry.policy", "remediation: install ferry-policy/0.2.0"));

        // the remediation applied: the published bundle measured, the earlier one superseded
        laptopTpm.measure("io.ferry.policy", "0.2.0", "policy 0.2.0");
        AttestationResult after = selfAttest(laptop, laptopTpm, "trusted");
        assertThat(after.qualifies()).isTrue();
        assertThat(after.verdict().has(Code.SUPERSEDED)).isTrue();
    }

    @Test
    void whatNoFeatureFixesIsSaidInWords() {
        laptopTpm.measure("qemu-system-x86_64", "7.2.16", "patched qemu");
        laptopTpm.measure("io.ferry.evil", "6.6.6", "rootkit");
        AttestationResult r = selfAttest(laptop, laptopTpm, "trusted");
        assertThat(r.verdict().unknown()).containsExactly("qemu-system-x86_64 7.2.16", "io.ferry.evil 6.6.6");
        assertThat(r.remediation().features()).isEmpty();
        assertThat(r.remediation().unresolved()).anySatisfy(u -> assertThat(u).contains("qemu-system-x86_64 7.2.16",
                "system's package manager")).anySatisfy(u -> assertThat(u).contains("io.ferry.evil 6.6.6",
                        "no published release contains it"));
        // without a required level there is no remediation, only the verdict
        assertThat(selfAttest(laptop, laptopTpm, null).remediation()).isEqualTo(Remediation.NONE);
    }

    @Test
    void aRequiredComponentThatIsMissingLowersTheLevel() throws Exception {
        SoftwareAttester bare = new SoftwareAttester();
        bare.measure("io.ferry.policy", "0.1.0", "policy 0.1.0");
        String id = register("bare", bare);
        AttestationResult r = selfAttest(id, bare, "measured");
        assertThat(r.verdict().has(Code.MISSING_COMPONENT)).isTrue();
        assertThat(r.verdict().level()).isEqualTo("measured");
        assertThat(r.qualifies()).isTrue();
    }

    @Test
    void noncesOnlyForAttestableAgents() throws Exception {
        String noKey = register("nokey", null);
        assertThatThrownBy(() -> service.issueNonce(laptop, new NonceRequest(noKey, null)))
                .isInstanceOfSatisfying(ItCenterException.class, e -> assertThat(e.reason())
                        .isEqualTo(ItCenterException.Reason.CONFLICT)).hasMessageContaining("no enrolled attestation key");
        assertThatThrownBy(() -> service.issueNonce(laptop, new NonceRequest("nobody", null)))
                .isInstanceOfSatisfying(ItCenterException.class, e -> assertThat(e.reason())
                        .isEqualTo(ItCenterException.Reason.NOT_FOUND));
        itc.revoke(desktop, "stolen", "test");
        assertThatThrownBy(() -> service.issueNonce(laptop, new NonceRequest(desktop, null)))
                .hasMessageContaining("revoked");
        assertThatThrownBy(() -> service.issueNonce(laptop, new NonceRequest(null, new byte[257])))
                .isInstanceOf(ItCenterException.class);
        assertThatThrownBy(() -> selfAttest(laptop, laptopTpm, "superb"))
                .isInstanceOfSatisfying(ItCenterException.class, e -> assertThat(e.reason())
                        .isEqualTo(ItCenterException.Reason.INVALID));
    }

    @Test
    void theRecordListsNewestFirstPerAgent() throws Exception {
        selfAttest(laptop, laptopTpm, null);
        selfAttest(desktop, desktopTpm, null);
        laptopTpm.signer = SoftwareAttester.newKey();
        selfAttest(laptop, laptopTpm, null);
        List<AttestationRecord> all = service.attestations(null, 10);
        assertThat(all).hasSize(3);
        assertThat(all.get(0).seq()).isGreaterThan(all.get(1).seq());
        assertThat(service.attestations(laptop, 10)).extracting(rec -> rec.result().verdict().level())
                .containsExactly("untrusted", "trusted");
        assertThat(itc.agent(laptop).orElseThrow().lastVerdict()).startsWith("untrusted").contains("not genuine");
    }
}
