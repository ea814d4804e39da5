package io.ferry.hypervisor.protection.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

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
                    default -> null;
                });
        return new ProtectionService(context, config);
    }

    @Test
    void deactivationWaitsForACheckInProgressAndLaterCallsAreToldToAskTheSuccessor() throws Exception {
        FakeGuest guest = new FakeGuest();
        CountDownLatch inPeek = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        java.util.concurrent.atomic.AtomicBoolean blocking = new java.util.concurrent.atomic.AtomicBoolean();
        Hypervisor real = guest.hypervisor("a");
        Hypervisor slow = (Hypervisor) Proxy.newProxyInstance(Hypervisor.class.getClassLoader(),
                new Class<?>[] {Hypervisor.class}, (p, m, a) -> {
                    if (m.getName().equals("peekMemory") && blocking.get()) {
                        inPeek.countDown();
                        release.await(10, TimeUnit.SECONDS);
                    }
                    return m.invoke(real, a);
                });
        ProtectionService s = service();
        s.addHypervisor(slow, Map.of(Hypervisor.HOST_PROPERTY, "a"));
        s.baseline("a", "vm");
        blocking.set(true);
        // a check that is in the middle of reading guest memory when the update stops the component
        CompletableFuture<Status> check = CompletableFuture.supplyAsync(() -> s.check("a", "vm").status());
        assertThat(inPeek.await(10, TimeUnit.SECONDS)).isTrue();
        CompletableFuture<Void> stop = CompletableFuture.runAsync(s::deactivate);
        Thread.sleep(300);
        assertThat(stop).isNotDone();
        assertThatThrownBy(() -> s.check("a", "vm")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("ask its successor");
        release.countDown();
        assertThat(check.get(10, TimeUnit.SECONDS)).isEqualTo(Status.INTACT);
        stop.get(10, TimeUnit.SECONDS);
        assertThatThrownBy(s::status).isInstanceOf(IllegalStateException.class);
    }
}
