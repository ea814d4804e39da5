package io.ferry.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFileExtend;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;

import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarInputStream;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import org.apache.karaf.features.FeaturesService;
import org.apache.karaf.jaas.boot.principal.RolePrincipal;
import org.junit.After;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleEvent;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.SynchronousBundleListener;
import org.osgi.util.tracker.ServiceTracker;

import io.ferry.api.attestation.MeasurementEntry;
import io.ferry.api.attestation.Measurer;
import io.ferry.api.hypervisor.DomainState;
import io.ferry.api.hypervisor.Hypervisor;
import io.ferry.api.hypervisor.JobStats;
import io.ferry.api.protection.HypervisorProtection;
import io.ferry.api.protection.IntegrityCheck;
import io.ferry.api.protection.IntegrityCheck.Status;
import io.ferry.api.protection.ProtectionAdmin;

/**
 * Issue 9's promise: the hypervisor-protection bundle is replaced by a newer version while a live
 * migration runs and while another bundle calls HypervisorProtection.check in a loop. The migration
 * completes, the guest counts on, the caller never fails and moves to the new provider (waiting a
 * bounded time when there is none), the new provider keeps the baseline, no other bundle stops,
 * changes id or state, the JVM is the same, and the measurement log holds the new bundle.
 *
 * The update is applied exactly as the updater applies one: FeaturesService.installFeature with
 * Upgrade, from a features repository. The IT center's repository (issue 8) is not used: the newer
 * version (0.1.1, the same code with a higher Bundle-Version, so a different digest) and its
 * feature are written to a local file repository by the test.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class HotUpdateIT extends FerryTestSupport {

    private static final RolePrincipal ADMIN = new RolePrincipal("admin");
    private static final String BSN = "io.ferry.hypervisor.protection";
    private static final String FEATURE = "ferry-hypervisor-protection";
    private static final String NEW_VERSION = "0.1.1";
    /** How long a caller waits for a provider when there is none (what secure migration does). */
    private static final long WAIT_MILLIS = 10_000;

    private final List<Runnable> cleanups = new ArrayList<>();

    @Override
    protected void ferryOptions(List<Option> options) {
        Testbed testbed = Testbed.load();
        String[] hosts = System.getProperty("ferry.itest.hosts", "ita itb").split(" ");
        for (String host : hosts) {
            String cfg = "etc/io.ferry.hypervisor-" + host + ".cfg";
            options.add(editConfigurationFilePut(cfg, "ferry.host", host));
            options.add(editConfigurationFilePut(cfg, "uri", testbed.hostUri(host)));
            options.add(editConfigurationFilePut(cfg, "storage.shared", "true"));
        }
        // the measurer extends host A's swtpm: a bundle update is measured before it starts
        String tpm = testbed.get("FERRY_HOST_" + hosts[0].toUpperCase(Locale.ROOT) + "_TPM");
        int colon = tpm.lastIndexOf(':');
        options.add(editConfigurationFilePut("etc/io.ferry.tpm.cfg", "device", "swtpm"));
        options.add(editConfigurationFilePut("etc/io.ferry.tpm.cfg", "swtpm.host", tpm.substring(0, colon)));
        options.add(editConfigurationFilePut("etc/io.ferry.tpm.cfg", "swtpm.port", tpm.substring(colon + 1)));
        // installed at boot, before the probe: installing them later refreshes the probe (dynamic imports)
        options.add(editConfigurationFileExtend("etc/org.apache.karaf.features.cfg", "featuresBoot",
                FEATURE + ",ferry-updater"));
        // checks on demand only: the test's caller is the load
        options.add(editConfigurationFilePut("etc/io.ferry.protection.cfg", "interval.seconds", "0"));
        options.add(systemProperty("ferry.testbed.dir").value(testbed.dir().toString()));
        options.add(systemProperty("ferry.testbed.work").value(testbed.work().toString()));
        options.add(systemProperty("ferry.itest.hosts").value(String.join(" ", hosts)));
    }

    @After
    public void cleanUp() {
        for (Runnable c : cleanups) {
            try {
                c.run();
            } catch (RuntimeException e) {
                System.err.println("cleanup: " + e.getMessage());
            }
        }
    }

    @Test
    public void protectionIsReplacedDuringAMigrationWithoutFailingItOrRestartingAnythingElse() throws Exception {
        Bundle protection = bundle(BSN);
        assertEquals(Bundle.ACTIVE, protection.getState());
        String oldVersion = protection.getVersion().toString();

        String[] hosts = System.getProperty("ferry.itest.hosts").split(" ");
        Hypervisor a = getOsgiService(Hypervisor.class, "(" + Hypervisor.HOST_PROPERTY + "=" + hosts[0] + ")", 60_000);
        Hypervisor b = getOsgiService(Hypervisor.class, "(" + Hypervisor.HOST_PROPERTY + "=" + hosts[1] + ")", 60_000);
        String name = "ferry-hot-" + Long.toString(System.currentTimeMillis() % 1_000_000, 36);
        Path work = Path.of(System.getProperty("ferry.testbed.work"));
        Path vms = Files.createDirectories(work.resolve("vms"));
        Path disk = vms.resolve(name + ".qcow2");
        Files.copy(work.resolve("guest/disk-template.qcow2"), disk, StandardCopyOption.REPLACE_EXISTING);
        SerialLog serial = new SerialLog(vms.resolve(name + ".log"));
        cleanups.add(() -> removeEverywhere(name, a, b));
        cleanups.add(() -> {
            try {
                Files.deleteIfExists(disk);
                Files.deleteIfExists(vms.resolve(name + ".log"));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        a.define(Testbed.guestXml(Path.of(System.getProperty("ferry.testbed.dir")), name, disk,
                vms.resolve(name + ".log")));
        a.start(name);
        serial.awaitCounter(3, 120_000);

        // the baseline, through the current provider
        ProtectionAdmin admin = getOsgiService(ProtectionAdmin.class, 30_000);
        admin.baseline(hosts[0], name);

        // the newer version, as the IT center would publish it: a prepared jar and its feature
        Path repo = Files.createTempDirectory("ferry-hot-repo");
        Path jar = repo.resolve("ferry-hypervisor-protection-" + NEW_VERSION + ".jar");
        withVersion(new URL(protection.getLocation()), jar, NEW_VERSION);
        Path features = repo.resolve("features.xml");
        Files.writeString(features, featuresXml(jar), StandardCharsets.UTF_8);
        cleanups.add(() -> {
            try {
                Files.deleteIfExists(features);
                Files.deleteIfExists(jar);
                Files.deleteIfExists(repo);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });

        // what must not change
        Map<Long, String> before = bundles();
        long jvmStart = ManagementFactory.getRuntimeMXBean().getStartTime();
        List<String> otherStops = new CopyOnWriteArrayList<>();
        SynchronousBundleListener stops = e -> {
            if ((e.getType() == BundleEvent.STOPPING || e.getType() == BundleEvent.UNINSTALLED
                    || e.getType() == BundleEvent.UNRESOLVED) && !BSN.equals(e.getBundle().getSymbolicName())) {
                otherStops.add(e.getBundle().getSymbolicName() + " " + e.getType());
            }
        };
        bundleContext.addBundleListener(stops);
        cleanups.add(() -> bundleContext.removeBundleListener(stops));

        // the caller: another bundle (this probe) checking in a loop, rebinding to whatever provider is there
        ServiceTracker<HypervisorProtection, HypervisorProtection> tracker =
                new ServiceTracker<>(bundleContext, HypervisorProtection.class, null);
        tracker.open();
        cleanups.add(tracker::close);
        AtomicBoolean calling = new AtomicBoolean(true);
        Map<String, List<Status>> byVersion = new ConcurrentHashMap<>();
        List<String> callerFailures = new CopyOnWriteArrayList<>();
        AtomicLong longestWait = new AtomicLong();
        AtomicLong movedOn = new AtomicLong();
        List<String> findings = new CopyOnWriteArrayList<>();
        CompletableFuture<Void> caller = CompletableFuture.runAsync(() -> {
            while (calling.get()) {
                try {
                    long t0 = System.nanoTime();
                    HypervisorProtection p = tracker.waitForService(WAIT_MILLIS);
                    ServiceReference<HypervisorProtection> ref = tracker.getServiceReference();
                    long waited = (System.nanoTime() - t0) / 1_000_000;
                    longestWait.accumulateAndGet(waited, Math::max);
                    Bundle provider = ref == null ? null : ref.getBundle();
                    if (p == null || provider == null) {
                        if (waited >= WAIT_MILLIS) {
                            callerFailures.add("no protection service within " + WAIT_MILLIS + " ms");
                        }
                        continue;
                    }
                    String version = provider.getVersion().toString();
                    IntegrityCheck c = p.check(hosts[0], name);
                    byVersion.computeIfAbsent(version, v -> new CopyOnWriteArrayList<>()).add(c.status());
                    if (!c.intact() && findings.size() < 3) {
                        findings.add(version + " " + c.status() + " " + c.findings());
                    }
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    return;
                } catch (IllegalStateException e) {
                    // the provider stopped between lookup and call: ask its successor, as secure migration does
                    movedOn.incrementAndGet();
                } catch (Throwable e) {
                    callerFailures.add(e.toString());
                }
            }
        });

        // the migration, from the console, slowed so that the update surely lands inside it
        long migrationStart = System.nanoTime();
        CompletableFuture<String> migration = CompletableFuture.supplyAsync(
                () -> executeCommand("vm:migrate -H " + hosts[0] + " --bandwidth 16 " + name + " " + hosts[1],
                        300_000L, false, ADMIN));
        long deadline = System.currentTimeMillis() + 60_000;
        while (!migration.isDone() && jobOf(a, name).elapsedMillis() < 0 && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        assertFalse("the migration ended before the update could land", migration.isDone());

        long updateStart = System.nanoTime();
        featureService.addRepository(features.toUri());
        // the options the updater uses (KarafFeatures): upgrade, and no refresh of other bundles
        featureService.installFeature(FEATURE, NEW_VERSION,
                EnumSet.of(FeaturesService.Option.Upgrade, FeaturesService.Option.NoAutoRefreshBundles));
        long updateEnd = System.nanoTime();
        boolean migrationRunningAfterUpdate = !migration.isDone();

        String out = migration.get(300, TimeUnit.SECONDS);
        long migrationEnd = System.nanoTime();
        Thread.sleep(500);
        calling.set(false);
        caller.get(60, TimeUnit.SECONDS);
        System.out.printf("migration %d ms; update landed at +%d ms and took %d ms; longest wait for a provider %d ms;"
                + " checks by provider version %s; told to ask the successor %d time(s)%n",
                (migrationEnd - migrationStart) / 1_000_000, (updateStart - migrationStart) / 1_000_000,
                (updateEnd - updateStart) / 1_000_000, longestWait.get(), summary(byVersion), movedOn.get());
        System.out.println("first findings: " + findings);

        // the migration completed, the guest counts on, once booted
        assertTrue(out, out.contains("Migrated " + name));
        assertTrue("the update landed while the migration ran", migrationRunningAfterUpdate);
        assertEquals(DomainState.RUNNING, b.domain(name).state());
        assertFalse(a.exists(name));
        long after = serial.lastCounter();
        serial.awaitCounter(after + 3, 30_000);
        assertEquals(serial.tail(), 1, serial.boots());
        assertEquals(serial.tail(), -1, serial.firstGap());

        // the new provider is there, the same bundle updated in place, and the caller moved to it without failing
        Bundle updated = bundle(BSN);
        assertEquals(NEW_VERSION, updated.getVersion().toString());
        assertEquals(Bundle.ACTIVE, updated.getState());
        assertEquals(callerFailures.toString(), List.of(), callerFailures);
        assertTrue(summary(byVersion), byVersion.containsKey(oldVersion) && byVersion.containsKey(NEW_VERSION));
        assertTrue("waited at most the bound: " + longestWait.get(), longestWait.get() < WAIT_MILLIS);
        for (List<Status> statuses : byVersion.values()) {
            for (Status s : statuses) {
                // INTACT while the guest is on A, UNAVAILABLE once it left; never a lost baseline, never a change
                assertTrue(summary(byVersion), s == Status.INTACT || s == Status.UNAVAILABLE);
            }
        }
        ProtectionAdmin newAdmin = getOsgiService(ProtectionAdmin.class, 30_000);
        assertEquals(NEW_VERSION, newAdmin.status().providerVersion());
        assertTrue(newAdmin.baselines().stream().anyMatch(x -> x.domain().equals(name)));

        // nothing else restarted: same JVM, same bundles with the same ids and states
        assertEquals(jvmStart, ManagementFactory.getRuntimeMXBean().getStartTime());
        assertEquals(List.of(), otherStops);
        Map<Long, String> now = bundles();
        before.remove(updated.getBundleId());
        now.remove(updated.getBundleId());
        assertEquals(before, now);

        // the new bundle was measured (before it started) into the measurement log
        Measurer measurer = getOsgiService(Measurer.class, 30_000);
        List<MeasurementEntry> log = measurer.log();
        assertTrue("measurement log: " + log, log.stream()
                .anyMatch(e -> e.component().equals(BSN) && e.version().equals(NEW_VERSION)));
    }

    private Bundle bundle(String bsn) {
        for (Bundle b : bundleContext.getBundles()) {
            if (bsn.equals(b.getSymbolicName())) {
                return b;
            }
        }
        throw new AssertionError("no bundle " + bsn);
    }

    /** Every bundle but this probe: id to "bsn version state". */
    private Map<Long, String> bundles() {
        Map<Long, String> m = new TreeMap<>();
        for (Bundle b : bundleContext.getBundles()) {
            if (b.getBundleId() != bundleContext.getBundle().getBundleId()) {
                m.put(b.getBundleId(), b.getSymbolicName() + " " + b.getVersion() + " " + b.getState());
            }
        }
        return m;
    }

    private static JobStats jobOf(Hypervisor h, String name) {
        try {
            return h.jobStats(name);
        } catch (RuntimeException e) {
            return JobStats.NONE;
        }
    }

    private static String summary(Map<String, List<Status>> byVersion) {
        StringBuilder s = new StringBuilder();
        byVersion.forEach((v, l) -> s.append(v).append('=').append(l).append(' '));
        return s.toString().trim();
    }

    /** A copy of a bundle jar with another Bundle-Version: a newer build of the same code. */
    static void withVersion(URL source, Path target, String version) throws Exception {
        try (InputStream in = source.openStream(); JarInputStream jin = new JarInputStream(in)) {
            Manifest mf = new Manifest(jin.getManifest());
            mf.getMainAttributes().put(new Attributes.Name("Bundle-Version"), version);
            try (OutputStream out = Files.newOutputStream(target); JarOutputStream jout = new JarOutputStream(out, mf)) {
                for (JarEntry e; (e = jin.getNextJarEntry()) != null;) {
                    jout.putNextEntry(new JarEntry(e.getName()));
                    jin.transferTo(jout);
                    jout.closeEntry();
                }
            }
        }
        assertNotNull(target);
    }

    private static String featuresXml(Path jar) {
        return "<features name=\"ferry-hot-update\" xmlns=\"http://karaf.apache.org/xmlns/features/v1.6.0\">\n"
                + "  <feature name=\"" + FEATURE + "\" version=\"" + NEW_VERSION + "\">\n"
                + "    <feature>ferry-hypervisor</feature>\n"
                + "    <feature>scr</feature>\n"
                + "    <bundle dependency=\"true\">mvn:com.fasterxml.jackson.core/jackson-annotations/2.21</bundle>\n"
                + "    <bundle dependency=\"true\">mvn:com.fasterxml.jackson.core/jackson-core/2.21.3</bundle>\n"
                + "    <bundle dependency=\"true\">mvn:com.fasterxml.jackson.core/jackson-databind/2.21.3</bundle>\n"
                + "    <bundle dependency=\"true\">mvn:com.fasterxml.jackson.datatype/jackson-datatype-jsr310/2.21.3</bundle>\n"
                + "    <bundle>" + jar.toUri() + "</bundle>\n"
                + "  </feature>\n"
                + "</features>\n";
    }

    private static void removeEverywhere(String name, Hypervisor... hosts) {
        for (Hypervisor h : hosts) {
            if (h.exists(name)) {
                if (h.domain(name).state().isActive()) {
                    h.stop(name, true);
                }
                h.undefine(name);
            }
        }
    }
}
