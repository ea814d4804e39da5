package io.ferry.hypervisor.protection.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.ferry.api.attestation.ComponentKind;
import io.ferry.api.attestation.MeasurementEntry;
import io.ferry.api.attestation.MeasurementStatus;
import io.ferry.api.attestation.Measurer;
import io.ferry.api.hypervisor.DomainState;
import io.ferry.api.hypervisor.Hypervisor;
import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.itcenter.ItCenterLink;
import io.ferry.api.protection.ComponentCheck;
import io.ferry.api.protection.DomainBaseline;
import io.ferry.api.protection.IntegrityCheck;
import io.ferry.api.protection.IntegrityCheck.Status;
import io.ferry.api.protection.ProtectionAction;
import io.ferry.api.protection.ProtectionAlert;

class ProtectorTest {

    @TempDir
    Path dir;

    private final FakeGuest guest = new FakeGuest();
    private final Hypervisor hv = guest.hypervisor("a");
    private final List<String> posted = new CopyOnWriteArrayList<>();
    private final AtomicReference<ItCenterLink> link = new AtomicReference<>();
    private final AtomicReference<Measurer> measurer = new AtomicReference<>();

    private Protector protector(ProtectionAction action, boolean auto, List<RegionSpec> regions, List<String> binaries) {
        return new Protector(new Protector.Settings(action, auto, true, regions, binaries, Duration.ofSeconds(1)),
                h -> "a".equals(h) ? hv : null, () -> List.of(hv), link::get, measurer::get,
                new BaselineFile(dir.resolve("p/baselines.json")), Runnable::run, Clock.systemUTC(), 10);
    }

    private Protector protector(ProtectionAction action) {
        return protector(action, false, List.of(), List.of());
    }

    private ItCenterLink recordingLink(boolean fail) {
        return new ItCenterLink() {
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
                if (fail) {
                    throw new ItCenterException(ItCenterException.Reason.UNAVAILABLE, "down");
                }
                posted.add(method + " " + path + " " + json);
                return "{}";
            }
        };
    }

    @Test
    void baselineThenIntactThenAChangedByteIsChangedAlertedOnceAndAudited() {
        link.set(recordingLink(false));
        Protector p = protector(ProtectionAction.REFUSE_MIGRATION);
        assertThat(p.check("a", "vm").status()).isEqualTo(Status.NO_BASELINE);

        DomainBaseline b = p.baseline("a", "vm");
        assertThat(b.regions()).singleElement().satisfies(r -> {
            assertThat(r.region().physicalStart()).isEqualTo(FakeGuest.TEXT_PA);
            assertThat(r.region().length()).isEqualTo(FakeGuest.TEXT_LEN);
        });
        assertThat(p.check("a", "vm").status()).isEqualTo(Status.INTACT);
        // memory outside the region may change
        guest.memory[(int) FakeGuest.TEXT_PA - 1] = 1;
        guest.memory[(int) (FakeGuest.TEXT_PA + FakeGuest.TEXT_LEN)] = 1;
        assertThat(p.check("a", "vm").intact()).isTrue();

        guest.memory[(int) FakeGuest.TEXT_PA + FakeGuest.TEXT_LEN - 1] ^= 1;
        IntegrityCheck c = p.check("a", "vm");
        assertThat(c.status()).isEqualTo(Status.CHANGED);
        assertThat(c.findings()).singleElement().asString().startsWith("kernel-text");
        assertThat(p.check("a", "vm").status()).isEqualTo(Status.CHANGED);
        assertThat(p.alerts(10)).singleElement().satisfies(a -> {
            assertThat(a.kind()).isEqualTo(ProtectionAlert.Kind.MEMORY_CHANGED);
            assertThat(a.domain()).isEqualTo("vm");
            assertThat(a.host()).isEqualTo("a");
            assertThat(a.action()).isEqualTo("migration refused");
        });
        assertThat(guest.state).isEqualTo(DomainState.RUNNING);
        assertThat(guest.calls).doesNotContain("suspend");
        assertThat(posted).singleElement().asString().startsWith("POST audit {\"kind\":\"protection.changed\",\"vm\":\"vm\"");

        // a new baseline accepts the change; a later change alerts again
        p.baseline("a", "vm");
        assertThat(p.check("a", "vm").intact()).isTrue();
        guest.memory[(int) FakeGuest.TEXT_PA] ^= 1;
        assertThat(p.check("a", "vm").status()).isEqualTo(Status.CHANGED);
        assertThat(p.alerts(10)).hasSize(2);
    }

    @Test
    void thePauseActionPausesTheGuestAndAnUnreachableItCenterLosesNoAlert() {
        link.set(recordingLink(true));
        Protector p = protector(ProtectionAction.PAUSE);
        p.baseline("a", "vm");
        guest.memory[(int) FakeGuest.TEXT_PA + 100] ^= 1;
        assertThat(p.check("a", "vm").status()).isEqualTo(Status.CHANGED);
        assertThat(guest.state).isEqualTo(DomainState.PAUSED);
        assertThat(p.alerts(10)).singleElement().satisfies(a -> assertThat(a.action()).startsWith("paused"));
        // paused is still active: checks go on reporting CHANGED
        assertThat(p.check("a", "vm").status()).isEqualTo(Status.CHANGED);
    }

    @Test
    void unknownHostsOtherDomainsStoppedGuestsAndUnreadableMemoryAreNeverIntact() {
        Protector p = protector(ProtectionAction.REFUSE_MIGRATION);
        assertThat(p.check("zz", "vm").status()).isEqualTo(Status.UNAVAILABLE);
        p.baseline("a", "vm");
        guest.failPeek = true;
        assertThat(p.check("a", "vm").status()).isEqualTo(Status.UNAVAILABLE);
        guest.failPeek = false;
        guest.state = DomainState.SHUTOFF;
        assertThat(p.check("a", "vm").status()).isEqualTo(Status.UNAVAILABLE);
        assertThatThrownBy(() -> p.baseline("a", "vm")).hasMessageContaining("not running");
        guest.state = DomainState.RUNNING;
        guest.uuid = "99999999-2222-3333-4444-555555555555";
        IntegrityCheck other = p.check("a", "vm");
        assertThat(other.status()).isEqualTo(Status.NO_BASELINE);
        assertThat(other.findings().get(0)).contains("another domain");
        guest.name = "renamed";
        assertThat(p.check("a", "vm").status()).isEqualTo(Status.UNAVAILABLE);
        assertThat(p.alerts(10)).isEmpty();
    }

    @Test
    void baselinesSurviveANewProviderInstanceAsAfterAHotUpdate() throws Exception {
        Protector first = protector(ProtectionAction.REFUSE_MIGRATION);
        first.baseline("a", "vm");
        guest.memory[(int) FakeGuest.TEXT_PA + 5] ^= 1;
        assertThat(Files.exists(dir.resolve("p/baselines.json"))).isTrue();
        Protector second = protector(ProtectionAction.REFUSE_MIGRATION);
        assertThat(second.baselines()).hasSize(1);
        // the change made before the successor started is not blessed by it
        assertThat(second.check("a", "vm").status()).isEqualTo(Status.CHANGED);
    }

    @Test
    void aCorruptBaselineFileStartsEmptyInsteadOfFailing() throws Exception {
        Files.createDirectories(dir.resolve("p"));
        Files.writeString(dir.resolve("p/baselines.json"), "{not json");
        Protector p = protector(ProtectionAction.REFUSE_MIGRATION);
        assertThat(p.baselines()).isEmpty();
        assertThat(p.check("a", "vm").status()).isEqualTo(Status.NO_BASELINE);
    }

    @Test
    void autoBaselineWaitsUntilTwoRoundsAgreeThenRoundsCheck() {
        Protector p = protector(ProtectionAction.REFUSE_MIGRATION, true, List.of(), List.of());
        p.round();
        assertThat(p.baselines()).isEmpty();
        guest.memory[(int) FakeGuest.TEXT_PA + 7] ^= 1; // still booting: the text changes between rounds
        p.round();
        assertThat(p.baselines()).isEmpty();
        p.round();
        assertThat(p.baselines()).hasSize(1);
        assertThat(p.lastRound()).isNotNull();
        guest.memory[(int) FakeGuest.TEXT_PA + 7] ^= 1;
        p.round();
        assertThat(p.alerts(10)).hasSize(1);
        assertThat(p.lastChecks()).singleElement().satisfies(c -> assertThat(c.status()).isEqualTo(Status.CHANGED));
    }

    @Test
    void configuredRegionsAreTranslatedAndMeasuredBesideTheKernelText() {
        Protector p = protector(ProtectionAction.REFUSE_MIGRATION, false, List.of(
                RegionSpec.parse("vm=head:gva:0x" + Long.toHexString(FakeGuest.TEXT_VA) + ":64"),
                RegionSpec.parse("a/vm=low:gpa:0x1000:4096"), RegionSpec.parse("b/vm=elsewhere:gpa:0:1")),
                List.of());
        DomainBaseline b = p.baseline("a", "vm");
        assertThat(b.regions()).extracting(r -> r.region().name()).containsExactly("kernel-text", "head", "low");
        assertThat(b.regions().get(1).region().physicalStart()).isEqualTo(FakeGuest.TEXT_PA);
        guest.memory[0x1000 + 10] = 7;
        IntegrityCheck c = p.check("a", "vm");
        assertThat(c.status()).isEqualTo(Status.CHANGED);
        assertThat(c.findings()).singleElement().asString().startsWith("low ");
    }

    @Test
    void hostBinariesAreComparedWithTheMeasurementLogAndAMismatchAlertsOnce() throws Exception {
        Path qemu = Files.writeString(dir.resolve("qemu-system-x86_64"), "qemu v1");
        String good = Protector.sha256(qemu);
        measurer.set(new Measurer() {
            @Override
            public List<MeasurementEntry> measureAll() {
                return List.of();
            }

            @Override
            public List<MeasurementEntry> log() {
                return List.of(new MeasurementEntry(1, 23, ComponentKind.BINARY, "qemu-system-x86_64", "7.2", good,
                        Instant.now()));
            }

            @Override
            public MeasurementStatus status() {
                return null;
            }
        });
        Protector p = protector(ProtectionAction.REFUSE_MIGRATION, false, List.of(), List.of(qemu.toString()));
        assertThat(p.checkComponents()).singleElement().satisfies(c -> assertThat(c.matches()).isTrue());
        assertThat(p.alerts(10)).isEmpty();
        Files.writeString(qemu, "qemu v1, patched");
        List<ComponentCheck> checks = p.checkComponents();
        assertThat(checks.get(0).matches()).isFalse();
        p.checkComponents();
        assertThat(p.alerts(10)).singleElement()
                .satisfies(a -> assertThat(a.kind()).isEqualTo(ProtectionAlert.Kind.COMPONENT_CHANGED));
    }

    /** A clock the test moves; a peek of guest memory moves it by 10 s (a slow read). */
    private static final class SlowReadClock extends Clock {
        volatile Instant now = Instant.parse("2026-11-28T00:00:00Z");

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public java.time.ZoneId getZone() {
            return java.time.ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }
    }

    @Test
    void latestIsTheNewestMeasuredResultDatedWhenItsReadingBeganAndOnlyWhileItsBaselineAndDomainHold() {
        SlowReadClock clock = new SlowReadClock();
        Hypervisor slow = (Hypervisor) java.lang.reflect.Proxy.newProxyInstance(Hypervisor.class.getClassLoader(),
                new Class<?>[] {Hypervisor.class}, (proxy, m, a) -> {
                    if (m.getName().equals("peekMemory")) {
                        clock.now = clock.now.plusSeconds(10);
                    }
                    try {
                        return m.invoke(hv, a);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        Protector p = new Protector(new Protector.Settings(ProtectionAction.REFUSE_MIGRATION, false, true, List.of(),
                List.of(), Duration.ofSeconds(1)), h -> "a".equals(h) ? slow : null, () -> List.of(slow), link::get,
                measurer::get, new BaselineFile(dir.resolve("p/baselines.json")), Runnable::run,
                java.util.concurrent.ForkJoinPool.commonPool(), clock, 10);
        assertThat(p.latest("a", "vm")).isEmpty(); // no baseline
        p.baseline("a", "vm");
        assertThat(p.latest("a", "vm")).as("a baseline is no check").isEmpty();

        Instant began = clock.now;
        IntegrityCheck c = p.check("a", "vm");
        assertThat(c.status()).isEqualTo(Status.INTACT);
        assertThat(clock.now).isEqualTo(began.plusSeconds(30)); // three reads of 4 MiB
        assertThat(c.measuredAt()).as("when the reading began, not when it ended").isEqualTo(began);
        assertThat(p.latest("a", "vm")).contains(c);
        assertThat(p.latest("b", "vm")).isEmpty();
        assertThat(p.latest("a", "other")).isEmpty();

        guest.memory[(int) FakeGuest.TEXT_PA + FakeGuest.TEXT_LEN - 1] ^= 1; // in the last chunk
        IntegrityCheck changed = p.check("a", "vm");
        assertThat(changed.status()).isEqualTo(Status.CHANGED);
        assertThat(p.latest("a", "vm")).contains(changed);

        // the domain of that name is another one now: nothing is vouched for
        guest.uuid = "99999999-2222-3333-4444-555555555555";
        assertThat(p.latest("a", "vm")).isEmpty();
        guest.uuid = "11111111-2222-3333-4444-555555555555";
        guest.name = "gone";
        assertThat(p.latest("a", "vm")).isEmpty();
        guest.name = "vm";
        assertThat(p.latest("a", "vm")).contains(changed);

        // a new baseline: results against the earlier one are not handed out
        p.baseline("a", "vm");
        assertThat(p.latest("a", "vm")).isEmpty();
        assertThat(p.check("a", "vm").status()).isEqualTo(Status.INTACT);
        assertThat(p.latest("a", "vm")).hasValueSatisfying(l -> assertThat(l.intact()).isTrue());

        // a stopped guest's result is the newest one, and it is not intact
        guest.state = DomainState.SHUTOFF;
        p.check("a", "vm");
        assertThat(p.latest("a", "vm")).hasValueSatisfying(l -> assertThat(l.status()).isEqualTo(Status.UNAVAILABLE));

        // a new provider instance (a hot update) has no results of its own yet
        Protector successor = protector(ProtectionAction.REFUSE_MIGRATION);
        assertThat(successor.baselines()).hasSize(1);
        assertThat(successor.latest("a", "vm")).isEmpty();
    }

    @Test
    void roundsCheckDomainsAtEveryRoundAndTheBinariesOnlyAtTheirOwnInterval() throws Exception {
        Path qemu = Files.writeString(dir.resolve("qemu-system-x86_64"), "qemu v1");
        java.util.concurrent.atomic.AtomicInteger logReads = new java.util.concurrent.atomic.AtomicInteger();
        measurer.set(new Measurer() {
            @Override
            public List<MeasurementEntry> measureAll() {
                return List.of();
            }

            @Override
            public List<MeasurementEntry> log() {
                logReads.incrementAndGet();
                return List.of();
            }

            @Override
            public MeasurementStatus status() {
                return null;
            }
        });
        SlowReadClock clock = new SlowReadClock();
        Protector p = new Protector(new Protector.Settings(ProtectionAction.REFUSE_MIGRATION, false, true, List.of(),
                List.of(qemu.toString()), Duration.ofSeconds(2), Duration.ofSeconds(30)), h -> "a".equals(h) ? hv : null,
                () -> List.of(hv), link::get, measurer::get, new BaselineFile(dir.resolve("p/baselines.json")),
                Runnable::run, clock, 10);
        p.baseline("a", "vm");
        for (int i = 0; i < 15; i++) { // 30 s of rounds every 2 s
            Instant before = clock.now;
            p.round();
            assertThat(p.latest("a", "vm")).hasValueSatisfying(l -> assertThat(l.measuredAt()).isEqualTo(before));
            clock.now = clock.now.plusSeconds(2);
        }
        assertThat(logReads.get()).isEqualTo(1);
        p.round();
        assertThat(logReads.get()).isEqualTo(2);
    }

    @Test
    void readingAheadGivesTheSameDigestAndAnAbortOrAFailureEndsTheMeasurement() throws Exception {
        var region = new io.ferry.api.protection.ProtectedRegion("kernel-text", FakeGuest.TEXT_VA, FakeGuest.TEXT_PA,
                FakeGuest.TEXT_LEN, "test");
        for (int i = 0; i < FakeGuest.TEXT_LEN; i++) {
            guest.memory[(int) FakeGuest.TEXT_PA + i] = (byte) (i * 31 + i / 4096);
        }
        java.util.concurrent.ExecutorService reader = java.util.concurrent.Executors.newCachedThreadPool();
        try {
            String oneAfterTheOther = Memory.measure(hv, "vm", region);
            assertThat(Memory.measure(hv, "vm", region, new HypervisorCalls(reader))).isEqualTo(oneAfterTheOther);
            var sha = Memory.sha256();
            sha.update(guest.memory, (int) FakeGuest.TEXT_PA, FakeGuest.TEXT_LEN);
            assertThat(oneAfterTheOther).isEqualTo(java.util.HexFormat.of().formatHex(sha.digest()));

            // the component stops during the first read: the same exception object comes out (callers compare it)
            // and no other read starts
            IllegalStateException stopping = new IllegalStateException("stopping");
            HypervisorCalls calls = new HypervisorCalls(reader);
            java.util.concurrent.atomic.AtomicInteger reads = new java.util.concurrent.atomic.AtomicInteger();
            Hypervisor aborting = (Hypervisor) java.lang.reflect.Proxy.newProxyInstance(
                    Hypervisor.class.getClassLoader(), new Class<?>[] {Hypervisor.class}, (x, m, a) -> {
                        if (m.getName().equals("peekMemory")) {
                            reads.incrementAndGet();
                            calls.abort(stopping);
                        }
                        return m.invoke(hv, a);
                    });
            assertThatThrownBy(() -> Memory.measure(aborting, "vm", region, calls)).isSameAs(stopping);
            Thread.sleep(100);
            assertThat(reads.get()).isEqualTo(1);
            assertThatThrownBy(() -> Memory.measure(hv, "vm", region, calls)).isSameAs(stopping);

            // a failing read ends the measurement with its exception
            guest.failPeek = true;
            assertThatThrownBy(() -> Memory.measure(hv, "vm", region, new HypervisorCalls(reader)))
                    .isInstanceOf(io.ferry.api.hypervisor.HypervisorException.class);
        } finally {
            reader.shutdownNow();
        }
    }

    @Test
    void aCheckWhoseReadReturnsAfterTheAbortRecordsAndAlertsNothing() throws Exception {
        java.util.concurrent.CountDownLatch inLastRead = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicBoolean armed = new java.util.concurrent.atomic.AtomicBoolean();
        long lastChunk = FakeGuest.TEXT_PA + 2L * Memory.CHUNK;
        Hypervisor slow = (Hypervisor) java.lang.reflect.Proxy.newProxyInstance(Hypervisor.class.getClassLoader(),
                new Class<?>[] {Hypervisor.class}, (x, m, a) -> {
                    if (m.getName().equals("peekMemory") && armed.get() && (Long) a[1] == lastChunk) {
                        inLastRead.countDown();
                        release.await(30, java.util.concurrent.TimeUnit.SECONDS);
                    }
                    return m.invoke(hv, a);
                });
        link.set(recordingLink(false));
        java.util.concurrent.ExecutorService reader = java.util.concurrent.Executors.newCachedThreadPool();
        try {
            Protector p = new Protector(new Protector.Settings(ProtectionAction.PAUSE, false, true, List.of(), List.of(),
                    Duration.ofSeconds(1)), h -> "a".equals(h) ? slow : null, () -> List.of(slow), link::get,
                    measurer::get, new BaselineFile(dir.resolve("p/baselines.json")), Runnable::run, reader,
                    Clock.systemUTC(), 10);
            p.baseline("a", "vm");
            IntegrityCheck intact = p.check("a", "vm");
            guest.memory[(int) lastChunk] ^= 1;
            armed.set(true);
            java.util.concurrent.CompletableFuture<Void> round = java.util.concurrent.CompletableFuture.runAsync(p::round);
            assertThat(inLastRead.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            IllegalStateException stopping = new IllegalStateException("stopping");
            p.abortMeasurements(stopping);
            assertThatThrownBy(() -> round.get(1, java.util.concurrent.TimeUnit.SECONDS)).hasCause(stopping);
            release.countDown();
            Thread.sleep(300);
            // the changed memory came back from libvirt after the abort: no result, no alert, no pause, no event
            assertThat(p.alerts(10)).isEmpty();
            assertThat(posted).isEmpty();
            assertThat(guest.state).isEqualTo(DomainState.RUNNING);
            assertThat(p.lastChecks()).containsExactly(intact);
            // and nothing more is asked of libvirt: callers are told to ask the successor
            assertThatThrownBy(() -> p.latest("a", "vm")).isSameAs(stopping);
            assertThatThrownBy(() -> p.baseline("a", "vm")).isSameAs(stopping);
        } finally {
            release.countDown();
            reader.shutdownNow();
        }
    }

    @Test
    void alertsKeepTheNewestOnes() {
        Alerts a = new Alerts(3);
        for (int i = 0; i < 5; i++) {
            a.add(Instant.now(), ProtectionAlert.Kind.MEMORY_CHANGED, "h", "d" + i, "x", "y");
        }
        assertThat(a.newest(10)).extracting(ProtectionAlert::domain).containsExactly("d2", "d3", "d4");
        assertThat(a.newest(1)).extracting(ProtectionAlert::seq).containsExactly(5L);
        assertThat(a.count()).isEqualTo(5);
    }
}
