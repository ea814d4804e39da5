package io.ferry.updater.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Proxy;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import io.ferry.api.attestation.AttestationOutcome;
import io.ferry.api.attestation.AttestationResult;
import io.ferry.api.attestation.RemoteAttestation;
import io.ferry.api.attestation.Remediation;
import io.ferry.api.attestation.Verdict;
import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.itcenter.ItCenterException.Reason;
import io.ferry.api.itcenter.ItCenterLink;
import io.ferry.api.seal.Approval;
import io.ferry.api.seal.ApprovalRequest;
import io.ferry.api.seal.SealStorage;
import io.ferry.api.tpm.Pcr;
import io.ferry.api.updates.ApprovalRenewal;

/** The agent's renewal of its seal approval after an update, against stand-ins that record the order of calls. */
class RenewalTest {

    private final List<String> calls = new ArrayList<>();
    private volatile boolean genuine = true;
    private volatile String answer;
    private volatile RuntimeException itCenterFailure;
    private volatile Approval installed;

    private static byte[] filled(int b) {
        byte[] v = new byte[32];
        java.util.Arrays.fill(v, (byte) b);
        return v;
    }

    private final ApprovalRequest request = new ApprovalRequest(List.of(new Pcr(23, filled(2))), 0x01800100,
            filled(7), 4);

    private final ItCenterLink link = new ItCenterLink() {
        @Override
        public URI uri() {
            return URI.create("https://itc:8443/");
        }

        @Override
        public boolean enrolled() {
            return true;
        }

        @Override
        public String call(String method, String path, String json, Duration timeout) {
            calls.add(method + " " + path + " " + json);
            if (itCenterFailure != null) {
                throw itCenterFailure;
            }
            return answer;
        }
    };

    private final SealStorage seal = (SealStorage) Proxy.newProxyInstance(getClass().getClassLoader(),
            new Class<?>[] {SealStorage.class}, (p, m, args) -> switch (m.getName()) {
                case "approvalRequest" -> {
                    calls.add("approvalRequest");
                    yield request;
                }
                case "approve" -> {
                    calls.add("approve");
                    installed = (Approval) args[0];
                    yield null;
                }
                default -> throw new UnsupportedOperationException(m.getName());
            });

    private final RemoteAttestation attestation = (RemoteAttestation) Proxy.newProxyInstance(
            getClass().getClassLoader(), new Class<?>[] {RemoteAttestation.class}, (p, m, args) -> {
                if (!m.getName().equals("attest")) {
                    throw new UnsupportedOperationException(m.getName());
                }
                calls.add("attest " + args[0] + " " + args[1]);
                Verdict v = new Verdict(genuine ? "trusted" : "untrusted", genuine, List.of(), List.of(), List.of());
                return new AttestationOutcome(new AttestationResult("id-a", Instant.now(), v, null, true,
                        Remediation.NONE), 1, List.of(), null);
            });

    private final Renewal renewal = new Renewal(() -> link, () -> seal, () -> attestation, Duration.ofSeconds(5));

    private static String answer(long version, Pcr pcr) {
        String text = new Approval(version, List.of(pcr), new byte[] {1, 2, 3}).encode();
        return "{\"version\":" + version + ",\"approval\":\"" + text.replace("\n", "\\n") + "\"}";
    }

    @Test
    void attestsFirstThenAsksForExactlyWhatSealStorageNeedsAndInstallsIt() {
        answer = answer(5, new Pcr(23, filled(2)));
        List<String> progress = new ArrayList<>();
        Approval a = renewal.renew(progress::add);
        assertThat(a.version()).isEqualTo(5);
        assertThat(installed).isEqualTo(a);
        assertThat(calls).hasSize(4);
        assertThat(calls.get(0)).isEqualTo("attest null 1");
        assertThat(calls.get(1)).isEqualTo("approvalRequest");
        assertThat(calls.get(2)).startsWith("POST approvals {\"request\":\"pcr.23: " + request.pcrs().get(0).hex())
                .contains("minimum.version: 4");
        assertThat(calls.get(3)).isEqualTo("approve");
        assertThat(progress).last().asString().isEqualTo("Installed approval version 5");
    }

    @Test
    void aVerdictThatIsNotGenuineAsksForNothing() {
        genuine = false;
        assertThatThrownBy(() -> renewal.renew(s -> { })).hasMessageContaining("not genuine");
        assertThat(calls).containsExactly("attest null 1");
        assertThat(installed).isNull();
    }

    @Test
    void aRefusalOrAWrongOrMalformedApprovalInstallsNothing() {
        itCenterFailure = new ItCenterException(Reason.CONFLICT, "seal approval refused: PCR 23 is not what ...");
        assertThatThrownBy(() -> renewal.renew(s -> { })).hasMessageContaining("refused");
        itCenterFailure = null;
        answer = answer(5, new Pcr(23, filled(9)));
        assertThatThrownBy(() -> renewal.renew(s -> { })).hasMessageContaining("not the requested");
        for (String bad : new String[] {"{}", "not json", "{\"approval\":\"ferry-approval: 2\"}",
                "{\"version\":6,\"approval\":\"" + answer(5, new Pcr(23, filled(2))).split("\"approval\":\"")[1]}) {
            answer = bad;
            assertThatThrownBy(() -> renewal.renew(s -> { })).as(bad).isInstanceOf(IllegalStateException.class);
        }
        assertThat(installed).isNull();
    }

    @Test
    void missingPartsAreNamed() {
        assertThatThrownBy(() -> new Renewal(() -> null, () -> seal, () -> attestation, Duration.ofSeconds(1))
                .renew(s -> { })).hasMessageContaining("no IT center link");
        assertThatThrownBy(() -> new Renewal(() -> link, () -> null, () -> attestation, Duration.ofSeconds(1))
                .renew(s -> { })).hasMessageContaining("no seal storage");
        assertThatThrownBy(() -> new Renewal(() -> link, () -> seal, () -> null, Duration.ofSeconds(1))
                .renew(s -> { })).hasMessageContaining("no attestation service");
        assertThat(calls).isEmpty();
    }

    @Test
    void theUpdaterRenewsAfterAnAppliedUpdateAndReportsAFailedRenewalWithoutUndoingTheUpdate() {
        UpdaterTest.FakeItCenter itc = new UpdaterTest.FakeItCenter();
        UpdaterTest.FakeInstaller installer = new UpdaterTest.FakeInstaller();
        AtomicReference<ApprovalRenewal> service = new AtomicReference<>(p -> {
            p.accept("step");
            return new Approval(9, request.pcrs(), Base64.getDecoder().decode("AQID"));
        });
        Updater updater = new Updater(() -> itc, installer, List.of("ferry-*"), Duration.ofSeconds(5),
                Clock.systemUTC(), service::get);
        itc.pending = "[{\"id\":1,\"feature\":\"ferry-hypervisor-protection\",\"version\":\"0.1.1\"}]";
        assertThat(updater.poll()).isEqualTo(1);
        assertThat(itc.results).singleElement().asString().contains("APPLIED").contains("seal approval version 9 installed");
        service.set(p -> {
            throw new IllegalStateException("seal approval refused: PCR 23 ...");
        });
        itc.pending = "[{\"id\":2,\"feature\":\"ferry-hypervisor-protection\",\"version\":\"0.1.2\"}]";
        assertThat(updater.poll()).isEqualTo(1);
        assertThat(itc.results.get(1)).contains("APPLIED").contains("seal approval NOT renewed: seal approval refused");
        service.set(null);
        itc.pending = "[{\"id\":3,\"feature\":\"ferry-hypervisor-protection\",\"version\":\"0.1.3\"}]";
        updater.poll();
        assertThat(itc.results.get(2)).contains("APPLIED").contains("not renewed: no approval renewal service");
        assertThat(installer.installs).hasSize(3);
    }
}
