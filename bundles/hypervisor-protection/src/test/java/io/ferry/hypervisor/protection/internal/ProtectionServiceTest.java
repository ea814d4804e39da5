package io.ferry.hypervisor.protection.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Version;

import io.ferry.api.hypervisor.Hypervisor;
import io.ferry.api.protection.IntegrityCheck.Status;
import io.ferry.api.protection.ProtectionAction;

/** The component's part in a hot update: calls in progress finish before it stops; later calls are told to move on. */
class ProtectionServiceTest {

    @TempDir
    Path dir;

    private ProtectionService service() {
        Bundle bundle = (Bundle) Proxy.newProxyInstance(Bundle.class.getClassLoader(), new Class<?>[] {Bundle.class},
                (p, m, a) -> m.getName().equals("getVersion") ? new Version(0, 1, 1) : null);
        BundleContext context = (BundleContext) Proxy.newProxyInstance(BundleContext.class.getClassLoader(),
                new Class<?>[] {BundleContext.class}, (p, m, a) -> m.getName().equals("getBundle") ? bundle : null);
        ProtectionConfig config = (ProtectionConfig) Proxy.newProxyInstance(ProtectionConfig.class.getClassLoader(),
                new Class<?>[] {ProtectionConfig.class}, (p, m, a) -> switch (m.getName()) {
                    case "interval_seconds" -> 0;
                    case "action" -> ProtectionAction.REFUSE_MIGRATION;
                    case "baseline_auto" -> false;
                    case "kernel_text" -> true;
                    case "regions", "binaries" -> new String[0];
                    case "baseline_file" -> dir.resolve("b.json").toString();
                    case "alerts_kept" -> 10;
                    case "binaries_interval_seconds" -> 30;
                    default -> null;
                });
        return new ProtectionService(context, config);
    }

    @Test
    void deactivationWaitsForTheReadInProgressThenTheCheckGivesUpAndCallersAreToldToAskTheSuccessor()
            throws Exception {
        FakeGuest guest = new FakeGuest();
        CountDownLatch inPeek = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean blocking = new AtomicBoolean();
        AtomicInteger peeks = new AtomicInteger();
        Hypervisor real = guest.hypervisor("a");
        Hypervisor slow = (Hypervisor) Proxy.newProxyInstance(Hypervisor.class.getClassLoader(),
                new Class<?>[] {Hypervisor.class}, (p, m, a) -> {
                    if (m.getName().equals("peekMemory") && blocking.get()) {
                        peeks.incrementAndGet();
                        inPeek.countDown();
                        release.await(10, TimeUnit.SECONDS);
                    }
                    return m.invoke(real, a);
                });
        ProtectionService s = service();
        s.addHypervisor(slow, Map.of(Hypervisor.HOST_PROPERTY, "a"));
        s.baseline("a", "vm");
        assertThat(s.check("a", "vm").status()).isEqualTo(Status.INTACT);
        blocking.set(true);
        // a check that is in the middle of reading guest memory (the first of its 3 chunks) when the update stops
        // the component
        CompletableFuture<Status> check = CompletableFuture.supplyAsync(() -> s.check("a", "vm").status());
        assertThat(inPeek.await(10, TimeUnit.SECONDS)).isTrue();
        CompletableFuture<Void> stop = CompletableFuture.runAsync(s::deactivate);
        Thread.sleep(300);
        // the read in progress is waited for (the old revision's classes must stay loadable while it runs) ...
        assertThat(stop).isNotDone();
        assertThatThrownBy(() -> s.check("a", "vm")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("ask its successor");
        release.countDown();
        stop.get(10, TimeUnit.SECONDS);
        // ... but not the rest of the check: it gave up before its next read, its caller asks the successor
        assertThatThrownBy(() -> check.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(IllegalStateException.class)
                .hasMessageContaining("ask its successor");
        assertThat(peeks.get()).isEqualTo(1);
        assertThatThrownBy(s::status).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aBaselineInProgressWhenTheComponentStopsIsNotTaken() throws Exception {
        FakeGuest guest = new FakeGuest();
        CountDownLatch inPeek = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Hypervisor real = guest.hypervisor("a");
        Hypervisor slow = (Hypervisor) Proxy.newProxyInstance(Hypervisor.class.getClassLoader(),
                new Class<?>[] {Hypervisor.class}, (p, m, a) -> {
                    if (m.getName().equals("peekMemory")) {
                        inPeek.countDown();
                        release.await(10, TimeUnit.SECONDS);
                    }
                    return m.invoke(real, a);
                });
        ProtectionService s = service();
        s.addHypervisor(slow, Map.of(Hypervisor.HOST_PROPERTY, "a"));
        CompletableFuture<Object> baseline = CompletableFuture.supplyAsync(() -> s.baseline("a", "vm"));
        assertThat(inPeek.await(10, TimeUnit.SECONDS)).isTrue();
        CompletableFuture<Void> stop = CompletableFuture.runAsync(s::deactivate);
        Thread.sleep(200);
        release.countDown();
        stop.get(10, TimeUnit.SECONDS);
        assertThatThrownBy(() -> baseline.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(IllegalStateException.class);
        // nothing half-measured was persisted: a successor on the same file has no baseline of it
        ProtectionService successor = service();
        successor.addHypervisor(real, Map.of(Hypervisor.HOST_PROPERTY, "a"));
        assertThat(successor.baselines()).isEmpty();
        assertThat(successor.check("a", "vm").status()).isEqualTo(Status.NO_BASELINE);
        successor.deactivate();
    }
}
