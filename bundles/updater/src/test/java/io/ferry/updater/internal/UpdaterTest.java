package io.ferry.updater.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.itcenter.ItCenterException.Reason;
import io.ferry.api.itcenter.ItCenterLink;
import io.ferry.updater.internal.Updater.Phase;

class UpdaterTest {

    /** An IT center that serves a pending list and records results; results can be made to fail. */
    static final class FakeItCenter implements ItCenterLink {
        volatile String pending = "[]";
        volatile boolean enrolled = true;
        volatile RuntimeException resultFailure;
        volatile RuntimeException pendingFailure;
        final List<String> results = new ArrayList<>();

        @Override
        public URI uri() {
            return URI.create("https://itc:8443/");
        }

        @Override
        public boolean enrolled() {
            return enrolled;
        }

        @Override
        public synchronized String call(String method, String path, String json, Duration timeout) {
            if (method.equals("GET") && path.equals("updates/pending")) {
                if (pendingFailure != null) {
                    throw pendingFailure;
                }
                return pending;
            }
            if (method.equals("POST") && path.matches("updates/\\d+/result")) {
                if (resultFailure != null) {
                    throw resultFailure;
                }
                results.add(path + " " + json);
                return "{}";
            }
            throw new ItCenterException(Reason.NOT_FOUND, method + " " + path);
        }
    }

    /** A features service stand-in that records installs and can fail them. */
    static final class FakeInstaller implements FeatureInstaller {
        final List<String> installs = new ArrayList<>();
        volatile Exception failure;

        @Override
        public void install(String feature, String version, String repository) throws Exception {
            installs.add(feature + "/" + version + (repository == null ? "" : " " + repository));
            if (failure != null) {
                throw failure;
            }
        }

        @Override
        public String describe(String feature, String version) {
            return "mvn:io.ferry/" + feature + "/" + version;
        }
    }

    private final FakeItCenter itc = new FakeItCenter();
    private final FakeInstaller installer = new FakeInstaller();
    private final AtomicReference<ItCenterLink> link = new AtomicReference<>(itc);
    private final Updater updater = new Updater(link::get, installer, List.of("ferry-*"), Duration.ofSeconds(5),
            Clock.systemUTC());

    private static String update(long id, String feature, String version, String repository) {
        return "{\"id\":" + id + ",\"agent\":\"id-a\",\"feature\":\"" + feature + "\",\"version\":\"" + version
                + "\",\"repository\":" + (repository == null ? "null" : "\"" + repository + "\"")
                + ",\"state\":\"PENDING\",\"detail\":null,\"pushedAt\":\"2026-01-01T00:00:00Z\",\"reportedAt\":null}";
    }

    @Test
    void appliesAPendingUpdateOnceAndReportsItApplied() {
        itc.pending = "[" + update(7, "ferry-hypervisor-protection", "0.1.1", "file:/repo/features.xml") + "]";
        assertThat(updater.poll()).isEqualTo(1);
        assertThat(installer.installs).containsExactly("ferry-hypervisor-protection/0.1.1 file:/repo/features.xml");
        assertThat(itc.results).singleElement().asString().startsWith("updates/7/result {\"state\":\"APPLIED\"")
                .contains("ferry-hypervisor-protection/0.1.1 active in");
        assertThat(updater.tracks()).singleElement().satisfies(t -> assertThat(t.phase()).isEqualTo(Phase.REPORTED));
        // the IT center still lists it (its answer crossed ours): not installed again
        assertThat(updater.poll()).isZero();
        assertThat(installer.installs).hasSize(1);
    }

    @Test
    void aFailedInstallIsReportedFailedWithTheReason() {
        installer.failure = new IllegalArgumentException("no feature ferry-x/9 in the repositories");
        itc.pending = "[" + update(8, "ferry-x", "9", null) + "]";
        assertThat(updater.poll()).isZero();
        assertThat(itc.results).singleElement().asString().startsWith("updates/8/result {\"state\":\"FAILED\"")
                .contains("no feature ferry-x/9");
    }

    @Test
    void anOutcomeTheItCenterDidNotTakeIsSentAgainWithoutInstallingAgain() {
        itc.pending = "[" + update(9, "ferry-x", "1.1", null) + "]";
        itc.resultFailure = new ItCenterException(Reason.UNAVAILABLE, "IT center down");
        updater.poll();
        assertThat(updater.tracks()).singleElement().satisfies(t -> assertThat(t.phase()).isEqualTo(Phase.INSTALLED));
        itc.resultFailure = null;
        updater.poll();
        assertThat(installer.installs).hasSize(1);
        assertThat(itc.results).hasSize(1);
        assertThat(updater.tracks()).singleElement().satisfies(t -> assertThat(t.phase()).isEqualTo(Phase.REPORTED));
    }

    @Test
    void anAlreadyReportedOutcomeCountsAsTaken() {
        itc.pending = "[" + update(10, "ferry-x", "1.1", null) + "]";
        itc.resultFailure = new ItCenterException(Reason.CONFLICT, "already reported APPLIED");
        updater.poll();
        assertThat(updater.tracks()).singleElement().satisfies(t -> assertThat(t.phase()).isEqualTo(Phase.REPORTED));
    }

    @Test
    void refusesToUpdateItselfOrFeaturesOutsideTheAllowedOnes() {
        itc.pending = "[" + update(11, "ferry-updater", "0.2", null) + "," + update(12, "webconsole", "4.4", null) + "]";
        assertThat(updater.poll()).isZero();
        assertThat(installer.installs).isEmpty();
        assertThat(itc.results).hasSize(2);
        assertThat(itc.results.get(0)).contains("FAILED").contains("does not update itself");
        assertThat(itc.results.get(1)).contains("FAILED").contains("not among the allowed features");
    }

    @Test
    void doesNothingWithoutALinkOrEnrolmentOrWhenTheItCenterIsDown() {
        itc.pending = "[" + update(13, "ferry-x", "1.1", null) + "]";
        link.set(null);
        assertThat(updater.poll()).isZero();
        link.set(itc);
        itc.enrolled = false;
        assertThat(updater.poll()).isZero();
        itc.enrolled = true;
        itc.pendingFailure = new ItCenterException(Reason.UNAVAILABLE, "down");
        assertThat(updater.poll()).isZero();
        assertThat(installer.installs).isEmpty();
        itc.pendingFailure = null;
        assertThat(updater.poll()).isEqualTo(1);
    }

    @Test
    void malformedPendingListsInstallNothing() {
        for (String bad : new String[] {"{", "{}", "[{\"id\":1}]", "[{\"id\":\"x\",\"feature\":\"f\",\"version\":\"1\"}]"}) {
            itc.pending = bad;
            assertThat(updater.poll()).as(bad).isZero();
        }
        assertThat(installer.installs).isEmpty();
        assertThat(Updater.parse("")).isEmpty();
        assertThat(Updater.parse("[" + update(1, "f", "1", "") + "]").get(0).repository()).isNull();
    }
}
