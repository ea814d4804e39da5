package io.ferry.hypervisor.internal;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.DomainBlockJobInfo;
import org.libvirt.DomainInfo;
import org.libvirt.DomainJobStats;
import org.libvirt.LibvirtException;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.Designate;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;

import io.ferry.api.hypervisor.DomainState;
import io.ferry.api.hypervisor.DomainSummary;
import io.ferry.api.hypervisor.Hypervisor;
import io.ferry.api.hypervisor.HypervisorException;
import io.ferry.api.hypervisor.JobStats;
import io.ferry.api.hypervisor.MemoryMode;
import io.ferry.api.hypervisor.MigrationListener;
import io.ferry.api.hypervisor.MigrationOptions;
import io.ferry.api.hypervisor.MigrationResult;
import io.ferry.api.hypervisor.NoSuchDomainException;

@Component(service = Hypervisor.class, configurationPid = "io.ferry.hypervisor",
        configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = HypervisorConfig.class, factory = true)
public final class LibvirtHypervisor implements Hypervisor {

    /**
     * Guest memory read per libvirt call: the remote protocol's limit (4 MiB). Each call is one RPC and
     * one QEMU pmemsave into a temporary file; 14 MiB took 957 ms in 64 KiB calls (libvirt-java's own
     * loop) and 130 ms in 4 MiB calls here.
     */
    private static final int PEEK_CHUNK = LibvirtNative.MEMORY_PEEK_MAX;
    private static volatile LibvirtNative nativeLibrary;
    private static final int HMP = 1; // VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP
    private static final long MIGRATE_FLAGS = Domain.MigrateFlags.LIVE | Domain.MigrateFlags.PEER2PEER
            | Domain.MigrateFlags.PERSIST_DEST | Domain.MigrateFlags.ABORT_ON_ERROR;
    private static final int SNAPSHOT_FLAGS = Domain.SnapshotCreateFlags.LIVE | Domain.SnapshotCreateFlags.ATOMIC
            | Domain.SnapshotCreateFlags.NO_METADATA;

    private final String host;
    private final String uri;
    private final boolean sharedStorage;
    private final LibvirtConnection connection;
    private final ScheduledExecutorService poller;

    @Activate
    public LibvirtHypervisor(HypervisorConfig config) {
        this(config.ferry_host(), config.uri(), config.storage_shared());
    }

    LibvirtHypervisor(String host, String uri, boolean sharedStorage) {
        this.host = host;
        this.uri = uri;
        this.sharedStorage = sharedStorage;
        this.connection = new LibvirtConnection(uri, host);
        this.poller = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "ferry-hypervisor-" + host + "-poller");
            t.setDaemon(true);
            return t;
        });
    }

    @Deactivate
    public void close() {
        poller.shutdownNow();
        connection.close();
    }

    @Override
    public String hostName() {
        return host;
    }

    @Override
    public String uri() {
        return uri;
    }

    @Override
    public List<DomainSummary> listDomains() {
        Connect c = connection.get("list", null);
        List<DomainSummary> result = new ArrayList<>();
        try {
            for (Domain d : c.listAllDomains(0)) {
                try {
                    result.add(summary(d));
                } catch (LibvirtException e) {
                    // the domain vanished between listing and reading it (e.g. migrated away)
                } finally {
                    free(d);
                }
            }
        } catch (LibvirtException e) {
            throw LibvirtErrors.translate("list", null, host, e);
        }
        result.sort(Comparator.comparing(DomainSummary::name));
        return result;
    }

    @Override
    public DomainSummary domain(String name) {
        return withDomain("info", name, LibvirtHypervisor::summary);
    }

    @Override
    public boolean exists(String name) {
        try {
            domain(name);
            return true;
        } catch (NoSuchDomainException e) {
            return false;
        }
    }

    @Override
    public String define(String domainXml) {
        String name = DomainXml.name(domainXml);
        Connect c = connection.get("define", name);
        Domain d = null;
        try {
            d = c.domainDefineXML(domainXml);
            return d.getName();
        } catch (LibvirtException e) {
            throw LibvirtErrors.translate("define", name, host, e);
        } finally {
            free(d);
        }
    }

    @Override
    public void start(String name) {
        withDomain("start", name, d -> {
            if (d.isActive() == 1) {
                throw new HypervisorException("start", name,
                        LibvirtErrors.describe("start", name, host, "the domain is already running"));
            }
            d.create();
            return null;
        });
    }

    @Override
    public void stop(String name, boolean force) {
        withDomain("stop", name, d -> {
            if (d.isActive() != 1) {
                throw new HypervisorException("stop", name,
                        LibvirtErrors.describe("stop", name, host, "the domain is not running"));
            }
            if (force) {
                d.destroy();
            } else {
                d.shutdown();
            }
            return null;
        });
    }

    @Override
    public void undefine(String name) {
        withDomain("undefine", name, d -> {
            if (d.isActive() == 1) {
                throw new HypervisorException("undefine", name,
                        LibvirtErrors.describe("undefine", name, host, "the domain is running; stop it first"));
            }
            d.undefine();
            return null;
        });
    }

    @Override
    public void suspend(String name) {
        withDomain("suspend", name, d -> {
            d.suspend();
            return null;
        });
    }

    @Override
    public void resume(String name) {
        withDomain("resume", name, d -> {
            d.resume();
            return null;
        });
    }

    @Override
    public String domainXml(String name) {
        return withDomain("dumpxml", name, d -> d.getXMLDesc(0));
    }

    @Override
    public MigrationResult migrate(String name, String targetUri, MigrationOptions options,
            MigrationListener listener) {
        if (targetUri == null || targetUri.isBlank()) {
            throw new HypervisorException("migrate", name, "migrate " + name + ": no target URI given");
        }
        return withDomain("migrate", name, d -> {
            if (d.isActive() != 1) {
                throw new HypervisorException("migrate", name,
                        LibvirtErrors.describe("migrate", name, host, "the domain is not running"));
            }
            // Best effort: QEMU takes the downtime limit before the job starts; older daemons refuse it.
            // It aims low first and relaxes to the caller's maximum if the guest does not converge (SwitchOver).
            long maxDowntime = options.maxDowntime().toMillis();
            AtomicBoolean relaxed = new AtomicBoolean(SwitchOver.initialLimit(maxDowntime) >= maxDowntime);
            try {
                d.migrateSetMaxDowntime(SwitchOver.initialLimit(maxDowntime));
            } catch (LibvirtException ignored) {
                relaxed.set(true); // the default limit applies
            }
            long started = System.nanoTime();
            AtomicReference<JobStats> last = new AtomicReference<>(JobStats.NONE);
            AtomicBoolean timedOut = new AtomicBoolean();
            long poll = Math.max(20, options.pollInterval().toMillis());
            ScheduledFuture<?> progress = poller.scheduleAtFixedRate(() -> {
                JobStats s = currentStats(d);
                if (s != JobStats.NONE) {
                    last.set(s);
                    listener.progress(s);
                    if (!relaxed.get() && SwitchOver.relax(maxDowntime, s.iterations())) {
                        relaxed.set(true);
                        try {
                            d.migrateSetMaxDowntime(maxDowntime);
                        } catch (LibvirtException ignored) {
                            // the job ended meanwhile
                        }
                    }
                }
                if (System.nanoTime() - started > options.timeout().toNanos() && !timedOut.getAndSet(true)) {
                    abortQuietly(d);
                }
            }, poll, poll, TimeUnit.MILLISECONDS);
            try {
                // UNSAFE only skips libvirt's shared-storage guess; the operator declared the storage shared
                long flags = MIGRATE_FLAGS | (sharedStorage ? Domain.MigrateFlags.UNSAFE : 0);
                if (options.streamUri() == null) {
                    d.migrateToURI(targetUri, flags | Domain.MigrateFlags.TUNNELED, null, options.bandwidthMiBs());
                } else {
                    // QEMU's own stream to that socket; libvirt's connection to the target carries only its
                    // protocol (virDomainMigrateToURI2 with a migration URI)
                    d.migrateToURI(targetUri, options.streamUri(), null, flags, null, options.bandwidthMiBs());
                }
            } catch (LibvirtException e) {
                String reason = timedOut.get()
                        ? "timed out after " + options.timeout().toSeconds() + " s and was aborted"
                        : LibvirtErrors.reason(e);
                throw new HypervisorException("migrate", name, LibvirtErrors.describe("migrate", name, host,
                        reason + "; the domain keeps running on " + host), e);
            } finally {
                progress.cancel(false);
            }
            long wallMillis = (System.nanoTime() - started) / 1_000_000;
            JobStats done = completedStats(d, last.get());
            // The domain now runs on the target and is persistent there; drop the stale definition here,
            // unless the caller keeps it until the target confirmed (it undefines it itself then).
            try {
                if (!options.keepSourceDefinition() && d.isPersistent() == 1 && d.isActive() != 1) {
                    d.undefine();
                }
            } catch (LibvirtException ignored) {
                // leaving an inactive definition behind does no harm
            }
            return new MigrationResult(name, targetUri, wallMillis, done);
        });
    }

    @Override
    public boolean abortJob(String name) {
        return withDomain("abort", name, d -> {
            try {
                d.abortJob();
                return true;
            } catch (LibvirtException e) {
                if (e.getError() != null
                        && e.getError().getCode() == org.libvirt.Error.ErrorNumber.VIR_ERR_OPERATION_INVALID) {
                    return false; // no job to abort
                }
                throw e;
            }
        });
    }

    @Override
    public JobStats jobStats(String name) {
        return withDomain("jobstats", name, LibvirtHypervisor::currentStats);
    }

    @Override
    public String snapshotWithMemory(String name, String snapshotName, Path memoryFile, Path overlayDir) {
        return withDomain("snapshot", name, d -> {
            String xml = DomainXml.externalSnapshot(snapshotName, memoryFile, DomainXml.disks(d.getXMLDesc(0)),
                    overlayDir, name);
            free(d.snapshotCreateXML(xml, SNAPSHOT_FLAGS));
            return snapshotName;
        });
    }

    @Override
    public void blockCommit(String name, String disk, Path base, Path top) {
        withDomain("blockcommit", name, d -> {
            d.blockCommit(disk, base.toAbsolutePath().toString(), top.toAbsolutePath().toString(), 0, 0);
            // A commit below the active layer ends by itself; wait for it to disappear.
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
            while (true) {
                DomainBlockJobInfo info = d.getBlockJobInfo(disk, 0);
                if (info == null || (info.type == 0 && info.end == 0)) {
                    return null;
                }
                if (System.nanoTime() > deadline) {
                    throw new HypervisorException("blockcommit", name, LibvirtErrors.describe("blockcommit", name,
                            host, "the commit of " + disk + " did not finish within 10 minutes"));
                }
                sleep(50);
            }
        });
    }

    @Override
    public void restore(Path memoryFile, String replacementXml, boolean paused) {
        String name = replacementXml == null ? null : DomainXml.name(replacementXml);
        LibvirtNative lib;
        try {
            lib = LibvirtNative.load();
        } catch (UnsatisfiedLinkError e) {
            throw new HypervisorException("restore", name, "restore: libvirt0 is not installed: " + e.getMessage());
        }
        Pointer conn = lib.virConnectOpen(uri);
        if (conn == null) {
            throw new HypervisorException("restore", name, LibvirtErrors.describe("restore", name, host,
                    "cannot connect to " + uri + ": " + lib.virGetLastErrorMessage()));
        }
        try {
            // without PAUSED the guest comes back in the state it was saved in (running, for a live checkpoint)
            int flags = paused ? LibvirtNative.VIR_DOMAIN_SAVE_PAUSED : 0;
            if (lib.virDomainRestoreFlags(conn, memoryFile.toAbsolutePath().toString(), replacementXml, flags) < 0) {
                throw new HypervisorException("restore", name, LibvirtErrors.describe("restore", name, host,
                        lib.virGetLastErrorMessage()));
            }
        } finally {
            lib.virConnectClose(conn);
        }
    }

    @Override
    public byte[] peekMemory(String name, long address, int length, MemoryMode mode) {
        if (length < 0) {
            throw new IllegalArgumentException("length must not be negative");
        }
        // the lookup through libvirt-java maps a missing domain and connection errors like every other call
        return withDomain("memory-peek", name, d -> {
            byte[] out = new byte[length];
            if (length == 0) {
                return out;
            }
            // libvirt-java's Domain.memoryPeek reads 64 KiB per call whatever the buffer: bind libvirt directly
            LibvirtNative lib = nativeLibrary("memory-peek", name);
            Pointer dom = lib.virDomainLookupByName(connection.get("memory-peek", name).pointer(), name);
            if (dom == null) {
                throw new HypervisorException("memory-peek", name, LibvirtErrors.describe("memory-peek", name, host,
                        lib.virGetLastErrorMessage()));
            }
            int flags = mode == MemoryMode.VIRTUAL ? LibvirtNative.VIR_MEMORY_VIRTUAL : LibvirtNative.VIR_MEMORY_PHYSICAL;
            try (Memory chunk = new Memory(Math.min(PEEK_CHUNK, length))) {
                for (int off = 0; off < length; off += PEEK_CHUNK) {
                    int n = Math.min(PEEK_CHUNK, length - off);
                    if (lib.virDomainMemoryPeek(dom, address + off, n, chunk, flags) < 0) {
                        throw new HypervisorException("memory-peek", name, LibvirtErrors.describe("memory-peek", name,
                                host, "cannot read " + n + " bytes at 0x" + Long.toHexString(address + off) + ": "
                                        + lib.virGetLastErrorMessage()));
                    }
                    chunk.read(0, out, off, n);
                }
            } finally {
                lib.virDomainFree(dom);
            }
            return out;
        });
    }

    private static LibvirtNative nativeLibrary(String operation, String domain) {
        LibvirtNative lib = nativeLibrary;
        if (lib == null) {
            try {
                lib = LibvirtNative.load();
            } catch (UnsatisfiedLinkError e) {
                throw new HypervisorException(operation, domain, operation + ": libvirt0 is not installed: "
                        + e.getMessage());
            }
            nativeLibrary = lib;
        }
        return lib;
    }

    @Override
    public String monitorCommand(String name, String hmpCommand) {
        return withDomain("monitor", name, d -> d.qemuMonitorCommand(hmpCommand, HMP));
    }

    @FunctionalInterface
    private interface DomainCall<T> {
        T apply(Domain d) throws LibvirtException;
    }

    private <T> T withDomain(String operation, String name, DomainCall<T> call) {
        if (name == null || name.isBlank()) {
            throw new HypervisorException(operation, name, operation + ": no domain name given");
        }
        Connect c = connection.get(operation, name);
        Domain d = null;
        try {
            d = c.domainLookupByName(name);
            return call.apply(d);
        } catch (LibvirtException e) {
            throw LibvirtErrors.translate(operation, name, host, e);
        } finally {
            free(d);
        }
    }

    private static DomainSummary summary(Domain d) throws LibvirtException {
        DomainInfo info = d.getInfo();
        DomainState state = DomainStates.of(info.state);
        return new DomainSummary(d.getName(), d.getUUIDString(), state, info.memory, info.nrVirtCpu, info.cpuTime,
                d.isPersistent() == 1);
    }

    private static JobStats currentStats(Domain d) {
        try {
            DomainJobStats stats = d.getJobStats(0);
            return stats == null ? JobStats.NONE : JobStatsParser.parse(stats.stats);
        } catch (LibvirtException e) {
            return JobStats.NONE;
        }
    }

    /** libvirt keeps the statistics of the job it just completed, downtime included. */
    private static JobStats completedStats(Domain d, JobStats fallback) {
        try {
            DomainJobStats stats = d.getJobStats(Domain.GetJobStatsFlags.COMPLETED);
            JobStats parsed = stats == null ? JobStats.NONE : JobStatsParser.parse(stats.stats);
            return parsed == JobStats.NONE ? fallback : parsed;
        } catch (LibvirtException e) {
            return fallback;
        }
    }

    private static void abortQuietly(Domain d) {
        try {
            d.abortJob();
        } catch (LibvirtException ignored) {
            // the job ended on its own meanwhile
        }
    }

    private static void free(Object libvirtObject) {
        try {
            if (libvirtObject instanceof Domain d) {
                d.free();
            } else if (libvirtObject instanceof org.libvirt.DomainSnapshot s) {
                s.free();
            }
        } catch (LibvirtException ignored) {
            // freeing a stale handle fails harmlessly
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HypervisorException("wait", null, "interrupted");
        }
    }
}
