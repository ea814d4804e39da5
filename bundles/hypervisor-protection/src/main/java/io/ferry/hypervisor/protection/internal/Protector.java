package io.ferry.hypervisor.protection.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Function;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.ferry.api.attestation.Measurer;
import io.ferry.api.hypervisor.DomainState;
import io.ferry.api.hypervisor.DomainSummary;
import io.ferry.api.hypervisor.Hypervisor;
import io.ferry.api.hypervisor.HypervisorException;
import io.ferry.api.itcenter.ItCenterLink;
import io.ferry.api.protection.ComponentCheck;
import io.ferry.api.protection.DomainBaseline;
import io.ferry.api.protection.IntegrityCheck;
import io.ferry.api.protection.IntegrityCheck.Status;
import io.ferry.api.protection.ProtectedRegion;
import io.ferry.api.protection.ProtectionAction;
import io.ferry.api.protection.ProtectionAlert;
import io.ferry.api.protection.ProtectionAlert.Kind;
import io.ferry.api.protection.RegionBaseline;

/**
 * The protection logic, free of OSGi: baselines, checks, periodic rounds, alerts and actions.
 * Services come in through suppliers so that the component can rebind them at run time.
 */
public final class Protector {

    private static final Logger LOG = LoggerFactory.getLogger(Protector.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String AUDIT_KIND = "protection.changed";
    static final String AUDIT_COMPONENT_KIND = "protection.component-changed";

    /**
     * Settings from the configuration.
     *
     * @param interval         how often a round checks every protected domain
     * @param binariesInterval how often a round re-measures the host binaries too (at most every round)
     */
    public record Settings(ProtectionAction action, boolean autoBaseline, boolean kernelText, List<RegionSpec> regions,
            List<String> binaries, Duration interval, Duration binariesInterval) {

        /** The host binaries re-measured at every round. */
        public Settings(ProtectionAction action, boolean autoBaseline, boolean kernelText, List<RegionSpec> regions,
                List<String> binaries, Duration interval) {
            this(action, autoBaseline, kernelText, regions, binaries, interval, interval);
        }
    }

    private final Settings settings;
    private final Function<String, Hypervisor> hypervisors;
    private final Supplier<List<Hypervisor>> allHypervisors;
    private final Supplier<ItCenterLink> link;
    private final Supplier<Measurer> measurer;
    private final BaselineFile file;
    private final Executor background;
    /**
     * Every hypervisor (libvirt) call this makes: on the reader's threads, so that a component that stops does not
     * wait for one stuck in libvirt (memory peeks and monitor commands wait for the domain's migration job; see
     * {@link HypervisorCalls}); they also read the next chunk of guest memory while the current one is hashed.
     * Without a reader: on the calling thread.
     */
    private final HypervisorCalls calls;
    private final Clock clock;
    private final Alerts alerts;

    private final Map<String, DomainBaseline> baselines = new ConcurrentHashMap<>();
    private final Map<String, IntegrityCheck> lastChecks = new ConcurrentHashMap<>();
    /** The newest measured result per domain, with the baseline it was compared with (see {@link #latest}). */
    private final Map<String, Measured> latest = new ConcurrentHashMap<>();
    /** Auto-baseline candidates: taken once, adopted when the next round finds the same. */
    private final Map<String, DomainBaseline> candidates = new ConcurrentHashMap<>();
    /** What was already alerted: one alert per changed baseline, per changed binary digest. */
    private final Set<String> alerted = ConcurrentHashMap.newKeySet();
    private volatile Instant lastRound;
    /** When a round last re-measured the host binaries. */
    private Instant lastBinaries;

    public Protector(Settings settings, Function<String, Hypervisor> hypervisors, Supplier<List<Hypervisor>> allHypervisors,
            Supplier<ItCenterLink> link, Supplier<Measurer> measurer, BaselineFile file, Executor background,
            Clock clock, int alertsKept) {
        this(settings, hypervisors, allHypervisors, link, measurer, file, background, null, clock, alertsKept);
    }

    /**
     * @param reader where the next chunk of guest memory is read while the current one is hashed (null: one after
     *               the other, on the calling thread)
     */
    public Protector(Settings settings, Function<String, Hypervisor> hypervisors, Supplier<List<Hypervisor>> allHypervisors,
            Supplier<ItCenterLink> link, Supplier<Measurer> measurer, BaselineFile file, Executor background,
            Executor reader, Clock clock, int alertsKept) {
        this.settings = settings;
        this.hypervisors = hypervisors;
        this.allHypervisors = allHypervisors;
        this.link = link;
        this.measurer = measurer;
        this.file = file;
        this.background = background;
        this.calls = new HypervisorCalls(reader);
        this.clock = clock;
        this.alerts = new Alerts(alertsKept);
        try {
            file.load().forEach(b -> baselines.put(key(b.host(), b.domain()), b));
        } catch (IOException | RuntimeException e) {
            LOG.error("Cannot read the protection baselines ({}): every domain starts without one", e.toString());
        }
    }

    /**
     * From now on every measurement in progress or to come throws {@code reason}: one waiting for a read of guest
     * memory or a monitor command at once, however long libvirt takes to answer (the call's own thread finishes
     * later, its answer dropped), the others before their next call. Nothing measured is recorded, alerted, sent or
     * persisted after this returns: a component that stops (a hot update) neither waits for libvirt nor leaves the
     * old instance writing next to its successor; its callers ask the successor.
     *
     * <p>Synchronized with {@link #save}: a baseline being written when the component stops is written whole
     * before this returns, and none after.
     */
    synchronized void abortMeasurements(RuntimeException reason) {
        calls.abort(reason);
    }

    private void abortIfStopping() {
        calls.checkNotAborted();
    }

    static String key(String host, String domain) {
        return host + "/" + domain;
    }

    // ---- checks

    public IntegrityCheck check(String host, String domain) {
        Instant now = clock.instant();
        Hypervisor hv = hypervisors.apply(host);
        if (hv == null) {
            return record(host, new IntegrityCheck(domain, Status.UNAVAILABLE,
                    List.of("no hypervisor service for host '" + host + "'"), now));
        }
        DomainBaseline b = baselines.get(key(host, domain));
        if (b == null) {
            return new IntegrityCheck(domain, Status.NO_BASELINE, List.of("no baseline taken for " + domain), now);
        }
        DomainSummary d;
        try {
            d = calls.call(() -> hv.domain(domain));
        } catch (HypervisorException e) {
            return record(host, new IntegrityCheck(domain, Status.UNAVAILABLE, List.of(e.getMessage()), now));
        }
        if (!d.uuid().equals(b.uuid())) {
            return record(host, new IntegrityCheck(domain, Status.NO_BASELINE,
                    List.of("the baseline is of another domain of that name (uuid " + b.uuid() + ")"), now));
        }
        if (!d.state().isActive()) {
            return record(host, b, new IntegrityCheck(domain, Status.UNAVAILABLE, List.of(domain + " is not running"),
                    now));
        }
        Map<String, String> measured = new LinkedHashMap<>();
        for (RegionBaseline r : b.regions()) {
            try {
                measured.put(r.region().name(), Memory.measure(hv, domain, r.region(), calls));
            } catch (RuntimeException e) {
                if (e == calls.aborted()) {
                    throw e;
                }
                LOG.debug("Cannot measure {} of {}: {}", r.region().name(), domain, e.toString());
            }
        }
        // measured by a component that stopped meanwhile: neither recorded nor alerted, the caller asks the successor
        abortIfStopping();
        // measuredAt is when the reading began: the oldest byte this result vouches for was read then or later
        IntegrityCheck result = Changes.compare(b, measured, now);
        if (result.status() == Status.CHANGED) {
            changed(hv, host, b, result);
        }
        return record(host, b, result);
    }

    private IntegrityCheck record(String host, IntegrityCheck c) {
        lastChecks.put(key(host, c.domain()), c);
        return c;
    }

    /** A result measured against a baseline: what {@link #latest} hands out while that baseline holds. */
    private record Measured(IntegrityCheck check, DomainBaseline baseline) {
    }

    private IntegrityCheck record(String host, DomainBaseline b, IntegrityCheck c) {
        // the newest measurement wins: a check that began earlier but ended later does not replace it
        latest.merge(key(host, c.domain()), new Measured(c, b),
                (old, now) -> now.check().measuredAt().isBefore(old.check().measuredAt()) ? old : now);
        return record(host, c);
    }

    /**
     * The newest result measured for the domain (by a round or a call of {@link #check}), measuring nothing: empty
     * when there is none, when the baseline it was compared with is no longer the domain's baseline, or when the
     * domain of that name now has another UUID than that baseline (one libvirt call).
     */
    public Optional<IntegrityCheck> latest(String host, String domain) {
        String k = key(host, domain);
        Measured m = latest.get(k);
        if (m == null || baselines.get(k) != m.baseline()) {
            return Optional.empty();
        }
        Hypervisor hv = hypervisors.apply(host);
        if (hv == null) {
            return Optional.empty();
        }
        try {
            if (!calls.call(() -> hv.domain(domain)).uuid().equals(m.baseline().uuid())) {
                return Optional.empty();
            }
        } catch (HypervisorException e) {
            return Optional.empty();
        }
        return Optional.of(m.check());
    }

    private void changed(Hypervisor hv, String host, DomainBaseline b, IntegrityCheck result) {
        if (!alerted.add("memory " + key(host, b.domain()) + " " + b.takenAt())) {
            return;
        }
        String action = "migration refused";
        if (settings.action() == ProtectionAction.PAUSE) {
            try {
                calls.call(() -> {
                    hv.suspend(b.domain());
                    return null;
                });
                action = "paused; migration refused";
            } catch (RuntimeException e) {
                if (e == calls.aborted()) {
                    throw e;
                }
                action = "pause failed (" + e.getMessage() + "); migration refused";
            }
        }
        String detail = String.join("; ", result.findings());
        ProtectionAlert alert = alerts.add(clock.instant(), Kind.MEMORY_CHANGED, host, b.domain(), detail, action);
        LOG.error("Protected memory of {} on {} changed since its baseline of {} ({}): {}", b.domain(), host,
                b.takenAt(), action, detail);
        audit(AUDIT_KIND, b.domain(), "host " + host + ": " + detail + " (" + action + ")", alert);
    }

    private void audit(String kind, String vm, String detail, ProtectionAlert alert) {
        ItCenterLink l = link.get();
        if (l == null) {
            LOG.warn("Alert {} not sent to the IT center: no IT center link", alert.seq());
            return;
        }
        Map<String, String> body = new LinkedHashMap<>();
        body.put("kind", kind);
        body.put("vm", vm == null ? "-" : vm);
        body.put("detail", detail.length() > 4000 ? detail.substring(0, 3997) + "..." : detail);
        try {
            background.execute(() -> {
                try {
                    l.call("POST", "audit", JSON.writeValueAsString(body), Duration.ofSeconds(10));
                } catch (JsonProcessingException | RuntimeException e) {
                    LOG.warn("Alert {} not sent to the IT center: {}", alert.seq(), e.getMessage());
                }
            });
        } catch (RejectedExecutionException e) {
            LOG.warn("Alert {} not sent to the IT center: the component is stopping", alert.seq());
        }
    }

    // ---- baselines

    public List<ProtectedRegion> regions(String host, String domain) {
        return Memory.locate(running(host, domain), domain, settings.kernelText(), settings.regions(), calls);
    }

    public DomainBaseline baseline(String host, String domain) {
        DomainBaseline b = measureNow(host, domain);
        adopt(b);
        return b;
    }

    private DomainBaseline measureNow(String host, String domain) {
        Hypervisor hv = running(host, domain);
        String uuid = calls.call(() -> hv.domain(domain)).uuid();
        List<RegionBaseline> regions = new ArrayList<>();
        for (ProtectedRegion r : Memory.locate(hv, domain, settings.kernelText(), settings.regions(), calls)) {
            regions.add(new RegionBaseline(r, Memory.measure(hv, domain, r, calls)));
        }
        if (regions.isEmpty()) {
            throw new IllegalStateException("no region to protect in " + domain
                    + " (kernel.text is off and no region is configured for it)");
        }
        return new DomainBaseline(host, domain, uuid, regions, clock.instant());
    }

    private void adopt(DomainBaseline b) {
        abortIfStopping(); // measured by a component that stopped meanwhile: not taken
        String k = key(b.host(), b.domain());
        baselines.put(k, b);
        latest.remove(k); // results against an earlier baseline: latest() hands them out no more anyway
        candidates.remove(k);
        lastChecks.put(k, new IntegrityCheck(b.domain(), Status.INTACT, List.of(), b.takenAt()));
        save();
        LOG.info("Baseline of {} on {}: {}", b.domain(), b.host(), b.regions().stream()
                .map(r -> String.format("%s 0x%x+%d %s", r.region().name(), r.region().physicalStart(),
                        r.region().length(), r.sha256().substring(0, 16)))
                .toList());
    }

    private synchronized void save() {
        abortIfStopping(); // the successor owns the file now
        try {
            file.save(baselines.values().stream()
                    .sorted(Comparator.comparing(DomainBaseline::host).thenComparing(DomainBaseline::domain)).toList());
        } catch (IOException | RuntimeException e) {
            LOG.error("Cannot write the protection baselines: {}", e.toString());
        }
    }

    private Hypervisor running(String host, String domain) {
        Hypervisor hv = hypervisors.apply(host);
        if (hv == null) {
            throw new IllegalArgumentException("no hypervisor service for host '" + host + "'");
        }
        DomainState state = calls.call(() -> hv.domain(domain)).state();
        if (!state.isActive()) {
            throw new IllegalStateException(domain + " is not running (" + state + ")");
        }
        return hv;
    }

    List<DomainBaseline> baselines() {
        return baselines.values().stream()
                .sorted(Comparator.comparing(DomainBaseline::host).thenComparing(DomainBaseline::domain)).toList();
    }

    List<IntegrityCheck> lastChecks() {
        return lastChecks.entrySet().stream().sorted(Map.Entry.comparingByKey()).map(Map.Entry::getValue).toList();
    }

    public List<ProtectionAlert> alerts(int limit) {
        return alerts.newest(limit);
    }

    long alertCount() {
        return alerts.count();
    }

    Instant lastRound() {
        return lastRound;
    }

    // ---- the periodic round

    /** Checks every protected running domain of every host, baselines new ones, re-measures the binaries. */
    public void round() {
        for (Hypervisor hv : allHypervisors.get()) {
            List<DomainSummary> domains;
            try {
                domains = calls.call(hv::listDomains);
            } catch (RuntimeException e) {
                if (e == calls.aborted()) {
                    throw e;
                }
                LOG.debug("Cannot list the domains of {}: {}", hv.hostName(), e.toString());
                continue;
            }
            for (DomainSummary d : domains) {
                abortIfStopping();
                if (d.state() != DomainState.RUNNING && d.state() != DomainState.PAUSED) {
                    continue;
                }
                String k = key(hv.hostName(), d.name());
                DomainBaseline b = baselines.get(k);
                if (b != null && b.uuid().equals(d.uuid())) {
                    check(hv.hostName(), d.name());
                } else if (settings.autoBaseline() && d.state() == DomainState.RUNNING) {
                    autoBaseline(hv.hostName(), d.name());
                }
            }
        }
        // the binaries (QEMU's is 18 MiB: about 120 ms of SHA-256 here) need not follow a short interval
        Instant now = clock.instant();
        if (!settings.binaries().isEmpty()
                && (lastBinaries == null || !now.isBefore(lastBinaries.plus(settings.binariesInterval())))) {
            lastBinaries = now;
            checkComponents();
        }
        lastRound = clock.instant();
    }

    /** Trust on first use, once the guest has settled: two rounds in a row locate and measure the same. */
    private void autoBaseline(String host, String domain) {
        String k = key(host, domain);
        DomainBaseline now;
        try {
            now = measureNow(host, domain);
        } catch (RuntimeException e) {
            if (e == calls.aborted()) {
                throw e;
            }
            LOG.debug("No baseline of {} on {} yet: {}", domain, host, e.getMessage());
            candidates.remove(k);
            return;
        }
        DomainBaseline before = candidates.put(k, now);
        if (before != null && before.uuid().equals(now.uuid()) && before.regions().equals(now.regions())) {
            adopt(now);
        }
    }

    // ---- host components

    public List<ComponentCheck> checkComponents() {
        Map<String, String> actual = new LinkedHashMap<>();
        for (String path : settings.binaries()) {
            actual.put(path, sha256(Path.of(path)));
        }
        Measurer m = measurer.get();
        List<ComponentCheck> checks = Changes.components(actual, m == null ? List.of() : m.log());
        for (ComponentCheck c : checks) {
            if (m != null && !c.matches() && calls.aborted() == null
                    && alerted.add("component " + c.path() + " " + c.actual())) {
                String detail = c.path() + ": sha256 " + c.actual() + ", measurement log "
                        + (c.logged() == null ? "has no entry" : c.logged());
                ProtectionAlert alert = alerts.add(clock.instant(), Kind.COMPONENT_CHANGED, null, null, detail,
                        "reported");
                LOG.error("Host hypervisor component changed: {}", detail);
                audit(AUDIT_COMPONENT_KIND, null, detail, alert);
            }
        }
        return checks;
    }

    static String sha256(Path p) {
        var sha = Memory.sha256();
        try (InputStream in = Files.newInputStream(p)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0;) {
                sha.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (IOException e) {
            return null;
        }
    }
}
