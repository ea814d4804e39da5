package io.ferry.hypervisor.protection.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Version;

import io.ferry.api.hypervisor.Hypervisor;
import io.ferry.api.itcenter.ItCenterLink;
import io.ferry.api.protection.IntegrityCheck.Status;
import io.ferry.api.protection.ProtectionAction;

/**
 * The component's part in a hot update: deactivation does not wait for a read of guest memory stuck in libvirt (a
 * memory peek waits for the domain's migration job), the call or round waiting for it is told to ask the successor
 * at once, and what the stuck read brings back later is dropped: no result, alert, audit event or baseline.
 */
class ProtectionServiceTest {

    /** What deactivation may take with a read stuck in libvirt; before, it waited up to 15 s for the read. */
    private static final long STOP_BOUND_MS = 2_000;

    @TempDir
    Path dir;

    private final List<Stuck> stucks = new CopyOnWriteArrayList<>();

    @AfterEach
    void releaseStuckReads() {
        stucks.forEach(s -> s.release.countDown());
    }

    private ProtectionService service(int intervalSeconds) {
        Bundle bundle = (Bundle) Proxy.newProxyInstance(Bundle.class.getClassLoader(), new Class<?>[] {Bundle.class},
                (p, m, a) -> m.getName().equals("getVersion") ? new Version(0, 1, 1) : null);
        BundleContext context = (BundleContext) Proxy.newProxyInstance(BundleContext.class.getClassLoader(),
                new Class<?>[] {BundleContext.class}, (p, m, a) -> m.getName().equals("getBundle") ? bundle : null);
        ProtectionConfig config = (ProtectionConfig) Proxy.newProxyInstance(ProtectionConfig.class.getClassLoader(),
                new Class<?>[] {ProtectionConfig.class}, (p, m, a) -> switch (m.getName()) {
                    case "interval_seconds" -> intervalSeconds;
                    case "action" -> ProtectionAction.REFUSE_MIGRATION;
                    case "baseline_auto" -> true;
                    case "kernel_text" -> true;
                    case "regions", "binaries" -> new String[0];
                    case "baseline_file" -> dir.resolve("b.json").toString();
                    case "alerts_kept" -> 10;
                    case "binaries_interval_seconds" -> 30;
                    default -> null;
                });
        return new ProtectionService(context, config);
    }

    private ProtectionService service() {
        return service(0);
    }

    /**
     * The fake guest's host, whose memory peek at one guest-physical address blocks until released: what
     * virDomainMemoryPeek does while the domain's migration job holds libvirt's job lock (no Java interrupt ends it).
     */
    private Stuck stuck(FakeGuest guest, long at) {
        Stuck s = new Stuck(guest.hypervisor("a"), at);
        stucks.add(s);
        return s;
    }

    private static final class Stuck {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final AtomicInteger peeks = new AtomicInteger();
        final AtomicInteger returned = new AtomicInteger();
        volatile boolean armed;
        volatile Thread blocked;
        final Hypervisor hv;

        Stuck(Hypervisor real, long at) {
            hv = (Hypervisor) Proxy.newProxyInstance(Hypervisor.class.getClassLoader(), new Class<?>[] {Hypervisor.class},
                    (p, m, a) -> {
                        boolean block = m.getName().equals("peekMemory") && armed && (Long) a[1] == at;
                        if (m.getName().equals("peekMemory") && armed) {
                            peeks.incrementAndGet();
                        }
                        if (block) {
                            blocked = Thread.currentThread();
                            entered.countDown();
                            // like a native call: deaf to interrupts
                            while (!release.await(60, TimeUnit.SECONDS)) {
                                Thread.onSpinWait();
                            }
                        }
                        try {
                            return m.invoke(real, a);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        } finally {
                            if (block) {
                                returned.incrementAndGet();
                            }
                        }
                    });
        }
    }

    private static ItCenterLink recordingLink(List<String> posted) {
        return (ItCenterLink) Proxy.newProxyInstance(ItCenterLink.class.getClassLoader(),
                new Class<?>[] {ItCenterLink.class}, (p, m, a) -> switch (m.getName()) {
                    case "call" -> {
                        posted.add(a[1] + " " + a[2]);
                        yield "{}";
                    }
                    case "enrolled" -> true;
                    case "uri" -> URI.create("https://itc:8443/");
                    default -> null;
                });
    }

    /** The last of the kernel text's three 4 MiB reads: after it a check compares, records and alerts. */
    private static final long LAST_CHUNK = FakeGuest.TEXT_PA + 2L * Memory.CHUNK;

    private static long millisOf(Runnable r) {
        long t0 = System.nanoTime();
        r.run();
        return (System.nanoTime() - t0) / 1_000_000;
    }

    @Test
    void deactivationDoesNotWaitForAReadStuckInLibvirtAndTheCheckWaitingForItIsToldToAskTheSuccessor()
            throws Exception {
        FakeGuest guest = new FakeGuest();
        Stuck stuck = stuck(guest, LAST_CHUNK);
        List<String> posted = new CopyOnWriteArrayList<>();
        ProtectionService s = service();
        s.link = recordingLink(posted);
        s.addHypervisor(stuck.hv, Map.of(Hypervisor.HOST_PROPERTY, "a"));
        s.baseline("a", "vm");
        assertThat(s.check("a", "vm").status()).isEqualTo(Status.INTACT);
        String baselines = Files.readString(dir.resolve("b.json"));
        // the kernel text changes: a check that finished would be CHANGED, raise an alert and send an audit event
        guest.memory[(int) LAST_CHUNK] ^= 1;
        stuck.armed = true;
        CompletableFuture<Status> check = CompletableFuture.supplyAsync(() -> s.check("a", "vm").status());
        assertThat(stuck.entered.await(10, TimeUnit.SECONDS)).isTrue();

        long stopMs = millisOf(s::deactivate);

        System.out.println("deactivation with a check stuck in libvirt: " + stopMs + " ms");
        assertThat(stopMs).as("deactivation with a read stuck in libvirt (ms)").isLessThan(STOP_BOUND_MS);
        assertThat(stuck.returned.get()).as("the stuck read is still stuck").isZero();
        // the caller was not left waiting for libvirt: it asks the successor
        assertThatThrownBy(() -> check.get(1, TimeUnit.SECONDS)).hasCauseInstanceOf(IllegalStateException.class)
                .hasMessageContaining("ask its successor");
        assertThatThrownBy(() -> s.check("a", "vm")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("ask its successor");
        // the stuck read runs on a daemon thread (one that never returns does not hold the JVM)
        assertThat(stuck.blocked.isDaemon()).isTrue();

        // libvirt answers at last: what it read is dropped, nothing is compared, recorded, alerted or sent
        stuck.release.countDown();
        awaitReturn(stuck);
        Thread.sleep(300);
        assertThat(posted).isEmpty();
        assertThat(stuck.peeks.get()).as("no read after the stuck one").isEqualTo(3);
        assertThat(Files.readString(dir.resolve("b.json"))).isEqualTo(baselines);
    }

    @Test
    void aRoundStuckInLibvirtDoesNotHoldDeactivationAndRecordsNothingAfterwards() throws Exception {
        FakeGuest guest = new FakeGuest();
        Stuck stuck = stuck(guest, LAST_CHUNK);
        List<String> posted = new CopyOnWriteArrayList<>();
        ProtectionService s = service(1); // the first round 1 s after activation, then every second
        s.link = recordingLink(posted);
        s.addHypervisor(stuck.hv, Map.of(Hypervisor.HOST_PROPERTY, "a"));
        s.baseline("a", "vm");
        guest.memory[(int) LAST_CHUNK] ^= 1;
        stuck.armed = true;
        assertThat(stuck.entered.await(10, TimeUnit.SECONDS)).as("a round reads guest memory").isTrue();

        long stopMs = millisOf(s::deactivate);

        System.out.println("deactivation with a round stuck in libvirt: " + stopMs + " ms");
        assertThat(stopMs).as("deactivation with a round stuck in libvirt (ms)").isLessThan(STOP_BOUND_MS);
        // the rounds' own thread ended with the component (the stuck read's thread is another one)
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().equals("ferry-protection")) {
                t.join(1_000);
                assertThat(t.isAlive()).as("the rounds' thread after deactivation").isFalse();
            }
        }
        stuck.release.countDown();
        awaitReturn(stuck);
        Thread.sleep(300);
        assertThat(posted).isEmpty();
        // a successor on the same file sees the baseline unchanged and finds the change itself
        ProtectionService successor = service();
        successor.link = recordingLink(posted);
        successor.addHypervisor(guest.hypervisor("a"), Map.of(Hypervisor.HOST_PROPERTY, "a"));
        assertThat(successor.alerts(10)).isEmpty();
        assertThat(successor.check("a", "vm").status()).isEqualTo(Status.CHANGED);
        successor.deactivate();
    }

    private static void awaitReturn(Stuck stuck) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (stuck.returned.get() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(stuck.returned.get()).isEqualTo(1);
    }

    @Test
    void aBaselineWhoseReadReturnsAfterTheComponentStoppedIsNotTaken() throws Exception {
        FakeGuest guest = new FakeGuest();
        Stuck stuck = stuck(guest, LAST_CHUNK);
        stuck.armed = true;
        ProtectionService s = service();
        s.addHypervisor(stuck.hv, Map.of(Hypervisor.HOST_PROPERTY, "a"));
        CompletableFuture<Object> baseline = CompletableFuture.supplyAsync(() -> s.baseline("a", "vm"));
        assertThat(stuck.entered.await(10, TimeUnit.SECONDS)).isTrue();

        assertThat(millisOf(s::deactivate)).isLessThan(STOP_BOUND_MS);

        assertThatThrownBy(() -> baseline.get(1, TimeUnit.SECONDS)).hasCauseInstanceOf(IllegalStateException.class)
                .hasMessageContaining("ask its successor");
        stuck.release.countDown();
        awaitReturn(stuck);
        Thread.sleep(300);
        // nothing half-measured was persisted: a successor on the same file has no baseline of it
        ProtectionService successor = service();
        successor.addHypervisor(guest.hypervisor("a"), Map.of(Hypervisor.HOST_PROPERTY, "a"));
        assertThat(successor.baselines()).isEmpty();
        assertThat(successor.check("a", "vm").status()).isEqualTo(Status.NO_BASELINE);
        successor.deactivate();
    }

    @Test
    void aCheckBetweenTwoReadsGivesUpBeforeItsNextRead() throws Exception {
        FakeGuest guest = new FakeGuest();
        // blocks the first read: the check gives up with "ask the successor" and reads nothing more
        Stuck stuck = stuck(guest, FakeGuest.TEXT_PA);
        ProtectionService s = service();
        s.addHypervisor(stuck.hv, Map.of(Hypervisor.HOST_PROPERTY, "a"));
        s.baseline("a", "vm");
        stuck.armed = true;
        CompletableFuture<Status> check = CompletableFuture.supplyAsync(() -> s.check("a", "vm").status());
        assertThat(stuck.entered.await(10, TimeUnit.SECONDS)).isTrue();
        s.deactivate();
        assertThatThrownBy(() -> check.get(1, TimeUnit.SECONDS)).hasCauseInstanceOf(IllegalStateException.class)
                .hasMessageContaining("ask its successor");
        stuck.release.countDown();
        awaitReturn(stuck);
        Thread.sleep(200);
        assertThat(stuck.peeks.get()).isEqualTo(1);
        assertThatThrownBy(s::status).isInstanceOf(IllegalStateException.class);
    }
}
