package io.ferry.hypervisor.protection.internal;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.ferry.api.attestation.Measurer;
import io.ferry.api.hypervisor.Hypervisor;
import io.ferry.api.itcenter.ItCenterLink;
import io.ferry.api.protection.ComponentCheck;
import io.ferry.api.protection.DomainBaseline;
import io.ferry.api.protection.HypervisorProtection;
import io.ferry.api.protection.IntegrityCheck;
import io.ferry.api.protection.ProtectedRegion;
import io.ferry.api.protection.ProtectionAdmin;
import io.ferry.api.protection.ProtectionAlert;
import io.ferry.api.protection.ProtectionStatus;

/**
 * Hypervisor protection on this agent: every libvirt host's running domains, measured at an
 * interval. Hypervisors, the IT center link and the measurer are dynamic references, so that none
 * of them coming or going restarts this component.
 */
@Component(service = {HypervisorProtection.class, ProtectionAdmin.class}, configurationPid = "io.ferry.protection",
        immediate = true)
@Designate(ocd = ProtectionConfig.class)
public final class ProtectionService implements HypervisorProtection, ProtectionAdmin {

    private static final Logger LOG = LoggerFactory.getLogger(ProtectionService.class);
    /**
     * How long deactivation waits for calls and rounds in progress to leave this instance. None of them waits for
     * libvirt any more once deactivation began: a read of guest memory or a monitor command in progress is left to
     * its own (daemon) thread and its waiter told to ask the successor (see {@link HypervisorCalls}); so this
     * bounds only the Java work between two calls (hashing a 4 MiB chunk, a host binary, writing the baselines) and
     * a domain lookup, under load. It used to be 15 s, spent on any call stuck in libvirt: one CI run of HotUpdateIT
     * saw a 6.9 s swap, most likely a memory peek behind a migration's job lock, and the update became active only
     * after the migration had ended.
     */
    private static final long CALL_DRAIN_MILLIS = 3_000;

    private final Map<String, Hypervisor> hypervisors = new ConcurrentHashMap<>();
    private final String version;
    private final Duration interval;
    private final ProtectionConfig config;
    private final ScheduledExecutorService rounds;
    private final ExecutorService audits;
    /** Reads the next chunk of guest memory while a check hashes the current one. */
    private final ExecutorService reader;
    private final Protector protector;
    /**
     * Calls in progress, and whether the component is stopping. A hot update replaces this bundle's
     * revision right after deactivation, and the old revision's class loader then loads nothing more: a
     * call still running in the old instance would fail with a NoClassDefFoundError. So deactivation
     * waits (bounded) for calls in progress, and a call arriving after it started gets {@link #stopped},
     * created up front so that throwing it loads no class: a RuntimeException callers answer by asking
     * the successor.
     */
    private final Object calls = new Object();
    private int inFlight;
    private boolean closed;
    private final IllegalStateException stopped;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile ItCenterLink link;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile Measurer measurer;

    @Activate
    public ProtectionService(BundleContext context, ProtectionConfig config) {
        this.config = config;
        this.version = context.getBundle().getVersion().toString();
        this.interval = Duration.ofSeconds(Math.max(0, config.interval_seconds()));
        this.stopped = new IllegalStateException("hypervisor protection " + version
                + " is stopping (being replaced?): ask its successor");
        String file = config.baseline_file() == null ? "" : config.baseline_file().trim();
        if (file.contains("${karaf.data}")) {
            file = file.replace("${karaf.data}", System.getProperty("karaf.data", "data"));
        }
        this.audits = Executors.newSingleThreadExecutor(r -> thread(r, "ferry-protection-audit"));
        // daemon threads: a libvirt call that never returns keeps its thread, but not the JVM, alive
        this.reader = Executors.newCachedThreadPool(r -> thread(r, "ferry-protection-read"));
        this.protector = new Protector(
                new Protector.Settings(config.action(), config.baseline_auto(), config.kernel_text(),
                        RegionSpec.parseAll(config.regions()), List.of(config.binaries()), interval,
                        Duration.ofSeconds(Math.max(0, config.binaries_interval_seconds()))),
                hypervisors::get, () -> List.copyOf(hypervisors.values()), () -> link, () -> measurer,
                new BaselineFile(file.isEmpty() ? null : Path.of(file)), audits, reader, Clock.systemUTC(),
                config.alerts_kept());
        this.rounds = Executors.newSingleThreadScheduledExecutor(r -> thread(r, "ferry-protection"));
        if (!interval.isZero()) {
            rounds.scheduleWithFixedDelay(this::round, 1, interval.toSeconds(), TimeUnit.SECONDS);
        }
        LOG.info("Hypervisor protection {} active: every {} s, action {}, {} baseline(s) loaded", version,
                interval.toSeconds(), config.action(), protector.baselines().size());
    }

    private static Thread thread(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    private void round() {
        synchronized (calls) {
            if (closed) {
                return;
            }
            inFlight++;
        }
        try {
            protector.round();
        } catch (RuntimeException e) {
            if (e != stopped) { // stopped: the component stops, the round gave up
                LOG.warn("Protection round failed: {}", e.toString(), e);
            }
        } finally {
            exit();
        }
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void addHypervisor(Hypervisor hypervisor, Map<String, Object> properties) {
        hypervisors.put(host(hypervisor, properties), hypervisor);
    }

    void removeHypervisor(Hypervisor hypervisor, Map<String, Object> properties) {
        hypervisors.remove(host(hypervisor, properties), hypervisor);
    }

    private static String host(Hypervisor hypervisor, Map<String, Object> properties) {
        Object h = properties.get(Hypervisor.HOST_PROPERTY);
        return h != null ? h.toString() : hypervisor.hostName();
    }

    /*
     * Every public method brackets its call as enter(); try { ... } finally { exit(); } on purpose, not through a
     * shared method taking a lambda: a lambda's call site is linked (a class spun up in this bundle's class loader)
     * when it first runs, which can be after deactivation, when the old revision's class loader may load nothing
     * more. A call then must get `stopped` (a RuntimeException callers answer by asking the successor), not
     * a linkage error; the bracket loads nothing.
     */
    private void enter() {
        synchronized (calls) {
            if (closed) {
                throw stopped;
            }
            inFlight++;
        }
    }

    private void exit() {
        synchronized (calls) {
            if (--inFlight == 0) {
                calls.notifyAll();
            }
        }
    }

    /**
     * Stops accepting calls, wakes every call and round waiting for libvirt with {@link #stopped} (they ask the
     * successor; what libvirt answers later is dropped: no result, alert, audit event or baseline), then waits a
     * short bound for them to leave this instance, since the old revision's classes must stay loadable while they
     * run. It does not wait for a libvirt call: a hot update (this runs inside Bundle.update) must land while the
     * migration that holds the domain's job lock still runs.
     */
    @Deactivate
    void deactivate() {
        long start = System.nanoTime();
        long deadline = start + TimeUnit.MILLISECONDS.toNanos(CALL_DRAIN_MILLIS);
        int left;
        synchronized (calls) {
            closed = true;
        }
        // outside the lock: it waits for a baseline file being written (milliseconds), and callers exit() under it
        protector.abortMeasurements(stopped);
        synchronized (calls) {
            try {
                for (long wait; inFlight > 0 && (wait = deadline - System.nanoTime()) > 0;) {
                    TimeUnit.NANOSECONDS.timedWait(calls, wait);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            left = inFlight;
        }
        long drained = System.nanoTime();
        if (left > 0) {
            LOG.warn("Hypervisor protection {} stops with {} call(s) still running after {} ms", version, left,
                    CALL_DRAIN_MILLIS);
        }
        rounds.shutdownNow();
        reader.shutdown(); // a read stuck in libvirt keeps its daemon thread until libvirt answers; nobody waits for it
        audits.shutdown();
        try {
            // a round left the instance above (it is counted in inFlight): its thread ends at once
            rounds.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            // an alert's audit event being sent to the IT center (not libvirt), only right after an alert
            audits.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        long end = System.nanoTime();
        LOG.info("Hypervisor protection {} stopped in {} ms (calls and rounds left it in {} ms)", version,
                (end - start) / 1_000_000, (drained - start) / 1_000_000);
    }

    @Override
    public IntegrityCheck check(String host, String domain) {
        enter();
        try {
            return protector.check(host, domain);
        } finally {
            exit();
        }
    }

    @Override
    public Optional<IntegrityCheck> latest(String host, String domain) {
        enter();
        try {
            return protector.latest(host, domain);
        } finally {
            exit();
        }
    }

    @Override
    public ProtectionStatus status() {
        enter();
        try {
            return new ProtectionStatus(version, interval, config.action(), protector.lastRound(),
                    protector.lastChecks(), protector.alertCount());
        } finally {
            exit();
        }
    }

    @Override
    public List<DomainBaseline> baselines() {
        enter();
        try {
            return protector.baselines();
        } finally {
            exit();
        }
    }

    @Override
    public List<ProtectedRegion> regions(String host, String domain) {
        enter();
        try {
            return protector.regions(host, domain);
        } finally {
            exit();
        }
    }

    @Override
    public DomainBaseline baseline(String host, String domain) {
        enter();
        try {
            return protector.baseline(host, domain);
        } finally {
            exit();
        }
    }

    @Override
    public List<ProtectionAlert> alerts(int limit) {
        enter();
        try {
            return protector.alerts(limit);
        } finally {
            exit();
        }
    }

    @Override
    public List<ComponentCheck> checkComponents() {
        enter();
        try {
            return protector.checkComponents();
        } finally {
            exit();
        }
    }
}
