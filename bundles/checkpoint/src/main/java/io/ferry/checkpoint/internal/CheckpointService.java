package io.ferry.checkpoint.internal;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.Designate;

import io.ferry.api.channel.AgentChannels;
import io.ferry.api.channel.Channel;
import io.ferry.api.channel.ChannelHandler;
import io.ferry.api.checkpoint.CheckpointException;
import io.ferry.api.checkpoint.CheckpointException.Reason;
import io.ferry.api.checkpoint.CheckpointRecord;
import io.ferry.api.checkpoint.CheckpointSettings;
import io.ferry.api.checkpoint.CheckpointStatus;
import io.ferry.api.checkpoint.Checkpoints;
import io.ferry.api.checkpoint.RecoveryListener;
import io.ferry.api.checkpoint.RecoveryResult;
import io.ferry.api.checkpoint.StoredCheckpoint;
import io.ferry.api.hypervisor.DomainState;
import io.ferry.api.hypervisor.Hypervisor;
import io.ferry.api.itcenter.ItCenterLink;
import io.ferry.api.seal.SealStorage;

/**
 * Checkpoints in both roles. As primary: per VM a schedule of consistent checkpoints (live
 * external snapshot with memory, the frozen overlay shipped as the disk delta and then committed),
 * heartbeats to the backup, and the VM's lease kept renewed; a refused renewal (the lease moved)
 * stops the VM here. As backup: the channel handler for {@value #PURPOSE} that stores keys,
 * checkpoints and heartbeats, a failure detector, and recovery after taking the lease over.
 */
@Component(service = {Checkpoints.class, ChannelHandler.class},
        property = ChannelHandler.PURPOSE + "=" + CheckpointService.PURPOSE, configurationPid = "io.ferry.checkpoint")
@Designate(ocd = CheckpointConfig.class)
public final class CheckpointService implements Checkpoints, ChannelHandler {

    public static final String PURPOSE = "ferry-checkpoint";
    private static final Logger LOG = Logger.getLogger(CheckpointService.class.getName());
    private static final Pattern DOWNTIME = Pattern.compile("downtime: (\\d+) ms");

    private final CheckpointConfig config;
    private final AgentChannels channels;
    private final SealStorage seal;
    private final Function<String, Hypervisor> hypervisors;
    private final LeaseClient leases;
    private final BackupStore store;
    private final DiskTool disks;
    private final Path work;
    private final ScheduledExecutorService scheduler;
    /** One thread for the primaries' lease guards (pause, fence deadline): never behind a blocking call. */
    private final ScheduledExecutorService guards;
    private final SenderCheck senders;
    private final Fencing fencing;
    private final SecureRandom random = new SecureRandom();

    private final Map<String, Primary> primaries = new ConcurrentHashMap<>();
    private final Map<String, Beat> heartbeats = new ConcurrentHashMap<>();
    private final Map<String, RecoveryResult> recovered = new ConcurrentHashMap<>();
    private final Map<String, Long> recoveryAttempts = new ConcurrentHashMap<>();

    private final List<Hypervisor> boundHypervisors = new CopyOnWriteArrayList<>();
    private volatile ItCenterLink boundLink;

    private record Beat(String primary, long epoch, long sequence, Instant at) {
    }

    @Activate
    public CheckpointService(CheckpointConfig config, @Reference AgentChannels channels,
            @Reference SealStorage seal) throws IOException {
        this(config, channels, seal, null, null);
    }

    /** Outside OSGi (tests): the hypervisors by Ferry host name and the IT-center link given. */
    public CheckpointService(CheckpointConfig config, AgentChannels channels, SealStorage seal,
            Function<String, Hypervisor> hypervisors, Supplier<ItCenterLink> link) throws IOException {
        this.config = config;
        this.channels = channels;
        this.seal = seal;
        this.hypervisors = hypervisors != null ? hypervisors : this::boundHypervisor;
        this.leases = new LeaseClient(link != null ? link : () -> boundLink);
        String data = System.getProperty("karaf.data", "data");
        this.disks = new DiskTool(config.qemu_img());
        this.store = new BackupStore(Path.of(config.store_dir().isBlank() ? data + "/ferry/checkpoint/store"
                : config.store_dir()), disks, config.max_checkpoint_bytes(), BackupStore.StepHook.NONE,
                vm -> seal.list().contains(keyName(vm)) ? seal.get(keyName(vm)) : null);
        this.work = Files.createDirectories(Path.of(config.work_dir().isBlank() ? data + "/ferry/checkpoint/work"
                : config.work_dir()));
        this.scheduler = Executors.newScheduledThreadPool(6, r -> {
            Thread t = new Thread(r, "ferry-checkpoint");
            t.setDaemon(true);
            return t;
        });
        this.guards = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "ferry-checkpoint-lease-guard");
            t.setDaemon(true);
            return t;
        });
        this.fencing = new Fencing(work.resolve("fence"), config.virsh(), config.qemu_pid_dir(),
                "watchdog".equalsIgnoreCase(config.fence()) && !availabilityFirst());
        if (fencing.enabled() && config.lease_ttl_s() < 6) {
            LOG.warning("lease time " + config.lease_ttl_s() + " s: with fencing at least 6 s is advised (" + times()
                    + ")");
        }
        this.senders = new SenderCheck(work.resolve("pairings"), leases, this::availabilityFirst, scheduler,
                java.time.Clock.systemUTC(), Duration.ofSeconds(Math.max(1, Math.min(5, config.lease_ttl_s() / 3))));
        scheduler.scheduleWithFixedDelay(this::detectFailures, 1000, 1000, TimeUnit.MILLISECONDS);
        scheduler.schedule(this::resumePrimaries, 500, TimeUnit.MILLISECONDS);
    }

    @Deactivate
    public void close() {
        for (Primary p : primaries.values()) {
            p.stop();
        }
        primaries.clear();
        // the fencing watchdogs stay on duty: a restarted (or updated) agent resumes feeding them
        scheduler.shutdownNow();
        guards.shutdownNow();
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindHypervisor(Hypervisor h) {
        boundHypervisors.add(h);
    }

    void unbindHypervisor(Hypervisor h) {
        boundHypervisors.remove(h);
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindLink(ItCenterLink link) {
        boundLink = link;
    }

    void unbindLink(ItCenterLink link) {
        if (boundLink == link) {
            boundLink = null;
        }
    }

    private Hypervisor boundHypervisor(String host) {
        for (Hypervisor h : boundHypervisors) {
            if (h.hostName().equals(host)) {
                return h;
            }
        }
        return null;
    }

    private Hypervisor hypervisor(String host) {
        Hypervisor h = hypervisors.apply(host);
        if (h == null) {
            throw new CheckpointException(Reason.NOT_FOUND, "no hypervisor host " + host);
        }
        return h;
    }

    private Duration ttl() {
        return Duration.ofSeconds(config.lease_ttl_s());
    }

    private Fencing.Times times() {
        return Fencing.Times.of(ttl(), config.heartbeat_interval_ms());
    }

    private boolean availabilityFirst() {
        return "availability".equalsIgnoreCase(config.itcenter_unreachable());
    }

    /** The primary's copy of the last confirmed checkpoint's memory image, the base of the next memory delta. */
    private Path previousMemory(String vm) {
        return work.resolve(vm + ".previous.mem");
    }

    static String keyName(String vm) {
        return "checkpoint." + vm;
    }

    // ---------------------------------------------------------------- primary

    @Override
    public CheckpointStatus enable(CheckpointSettings settings) {
        return enable(settings, true);
    }

    /**
     * {@code fresh}: a new protection (checkpoint:enable), whose lease is given back when the backup
     * cannot be told; otherwise a restarted agent resuming one, which keeps its lease (and fence
     * deadline) so that a backup it cannot reach may take over.
     */
    private CheckpointStatus enable(CheckpointSettings settings, boolean fresh) {
        String vm = settings.vm();
        Hypervisor h = hypervisor(settings.host());
        if (h.domain(vm).state() != DomainState.RUNNING) {
            throw new CheckpointException(Reason.INVALID, vm + " does not run on " + settings.host());
        }
        if (primaries.containsKey(vm)) {
            throw new CheckpointException(Reason.INVALID, vm + " is checkpointed already; disable it first");
        }
        long epoch;
        long leaseSentAt = Fencing.bootMillis();
        try {
            epoch = leases.acquire(vm, ttl()).epoch();
        } catch (CheckpointException e) {
            if (e.reason() != Reason.UNAVAILABLE || !availabilityFirst()) {
                throw e;
            }
            LOG.warning("no lease for " + vm + " (" + e.getMessage() + "): checkpointing without a witness");
            epoch = 0;
        }
        byte[] key;
        List<String> names = seal.list();
        if (names.contains(keyName(vm))) {
            key = seal.get(keyName(vm));
        } else {
            key = new byte[32];
            random.nextBytes(key);
            seal.put(keyName(vm), key);
        }
        if (epoch > 0) {
            // from now on the VM does not outlive this agent's lease here (see Fencing)
            fencing.hold(vm, h.uri(), leaseSentAt + times().fenceAfter());
        }
        long latest;
        try {
            latest = handKey(settings, epoch, key);
        } catch (CheckpointException e) {
            // not protected after all: give the lease back, so that no backup holding an older checkpoint of the VM
            // could take it over once it expired
            if (fresh && epoch > 0) {
                try {
                    leases.release(vm, epoch);
                    fencing.release(vm);
                } catch (CheckpointException x) {
                    LOG.warning("cannot release the lease of " + vm + " after the failed enable: " + x.getMessage()
                            + " (the fencing watchdog keeps its deadline)");
                }
            }
            throw e;
        }
        Primary p = new Primary(settings, epoch, key, latest + 1, leaseSentAt);
        primaries.put(vm, p);
        remember(settings);
        p.start();
        leases.audit("checkpoint.enabled", vm, "backup " + settings.backup() + ", every " + settings.interval()
                + ", " + settings.compression());
        return p.status();
    }

    /** Sends the VM's key to the backup; returns the latest sequence the backup has of the VM. */
    private long handKey(CheckpointSettings settings, long epoch, byte[] key) {
        try (Channel c = channels.open(settings.backup(), PURPOSE, Duration.ofSeconds(10))) {
            DataOutputStream out = new DataOutputStream(c.output());
            out.writeUTF("KEY");
            out.writeUTF(settings.vm());
            out.writeLong(epoch);
            out.write(key);
            out.flush();
            DataInputStream in = new DataInputStream(c.input());
            String answer = in.readUTF();
            if (!"OK".equals(answer)) {
                throw new CheckpointException(Reason.UNAVAILABLE, "backup " + settings.backup() + " refused: " + answer);
            }
            return in.readLong();
        } catch (IOException e) {
            throw new CheckpointException(Reason.UNAVAILABLE, "backup " + settings.backup() + " unreachable: "
                    + e.getMessage(), e);
        }
    }

    /**
     * Ends the protection of a VM so that no backup can ever recover it while it runs on here. Once
     * checkpoints, heartbeats and renewals have stopped (none under way), the lease is released at the IT
     * center — a released lease is taken over by nobody — and the backup is told ({@code DISABLE}, which it
     * accepts only from the VM's paired primary holding, or having just released, the lease) to forget the VM.
     * Either suffices: the backup that missed the message finds the lease released when it would recover,
     * and the backup that got it no longer watches. When neither the IT center nor the backup confirms,
     * protection goes on as before and the disable fails (try again).
     */
    @Override
    public boolean disable(String vm) {
        Primary p = primaries.get(vm);
        if (p == null) {
            return false;
        }
        p.stop();
        synchronized (p) {
            // a checkpoint under way completes (or fails) first
        }
        synchronized (p.renewing) {
            // and no renewal is under way: it could land after the release
        }
        String released = null;
        if (p.epoch > 0) {
            try {
                leases.release(vm, p.epoch);
            } catch (CheckpointException e) {
                released = e.getMessage();
                LeaseClient.Lease l = e.reason() == Reason.FENCED ? leaseOrNull(vm) : null;
                if (l != null && l.holder() == null) {
                    released = null; // released already (an earlier attempt whose answer was lost)
                } else if (l != null && !channels.agentId().equals(l.holder())) {
                    // the backup took the lease over meanwhile: this copy must not run on
                    p.fence("lease at " + l.holder() + " epoch " + l.epoch() + " while disabling");
                    throw new CheckpointException(Reason.FENCED, vm + " was taken over by " + l.holder()
                            + " (lease epoch " + l.epoch() + "): stopped here");
                }
            }
        } else {
            released = "no lease (checkpointing without a witness)";
        }
        if (released == null) {
            fencing.release(vm); // nobody can take the VM over now: no fencing needed
        }
        String told = tellBackupToForget(p);
        if (released != null && told != null) {
            p.start();
            throw new CheckpointException(Reason.UNAVAILABLE, "cannot disable the protection of " + vm
                    + ": the IT center did not release its lease (" + released + ") and the backup was not told ("
                    + told + "); protection goes on, try again");
        }
        primaries.remove(vm, p);
        forgetPrimary(vm);
        synchronized (p.pausing) {
            if (p.pausedForLease) {
                try {
                    hypervisor(p.settings.host()).resume(vm);
                } catch (RuntimeException e) {
                    LOG.warning("cannot resume " + vm + ": " + e.getMessage());
                }
            }
        }
        String how = (released == null ? "lease released" : "lease not released: " + released) + "; "
                + (told == null ? "the backup forgot it" : "the backup not told: " + told);
        LOG.info("protection of " + vm + " disabled (" + how + ")");
        leases.audit("checkpoint.disabled", vm, how);
        return true;
    }

    private LeaseClient.Lease leaseOrNull(String vm) {
        try {
            return leases.get(vm);
        } catch (CheckpointException e) {
            return null;
        }
    }

    /** DISABLE to the backup: returns null when it confirmed, else why not. */
    private String tellBackupToForget(Primary p) {
        try (Channel c = channels.open(p.settings.backup(), PURPOSE, Duration.ofSeconds(5))) {
            DataOutputStream out = new DataOutputStream(c.output());
            out.writeUTF("DISABLE");
            out.writeUTF(p.settings.vm());
            out.writeLong(p.epoch);
            out.flush();
            String answer = new DataInputStream(c.input()).readUTF();
            return "OK".equals(answer) ? null : answer;
        } catch (IOException | RuntimeException e) {
            return "unreachable: " + e.getMessage();
        }
    }

    @Override
    public CheckpointRecord checkpointNow(String vm) {
        Primary p = primaries.get(vm);
        if (p == null) {
            throw new CheckpointException(Reason.NOT_FOUND, vm + " is not checkpointed here");
        }
        return p.checkpoint();
    }

    /** One protected VM on the primary. */
    private final class Primary {
        final CheckpointSettings settings;
        final byte[] key;
        volatile long epoch;
        long nextSequence;
        long confirmed = -1;
        volatile CheckpointRecord last;
        volatile String lastError;
        /** Boot-time ms when the last granted renewal (or the acquire) was sent: the lease stands until then + TTL. */
        volatile long renewedAt;
        volatile boolean pausedForLease;
        volatile boolean stopped;
        /** Held for a whole renewal, so that disable can wait until none is under way. */
        final Object renewing = new Object();
        /** Orders the guard's pause with a renewal's resume. */
        final Object pausing = new Object();
        ScheduledFuture<?> checkpoints;
        ScheduledFuture<?> beats;
        ScheduledFuture<?> renewals;
        ScheduledFuture<?> guard;
        Channel beatChannel;

        Primary(CheckpointSettings settings, long epoch, byte[] key, long firstSequence, long renewedAt) {
            this.settings = settings;
            this.epoch = epoch;
            this.key = key;
            this.nextSequence = firstSequence;
            this.renewedAt = renewedAt;
        }

        void start() {
            stopped = false;
            Fencing.Times t = times();
            checkpoints = scheduler.scheduleWithFixedDelay(this::scheduled, 0, settings.interval().toMillis(),
                    TimeUnit.MILLISECONDS);
            beats = scheduler.scheduleWithFixedDelay(this::beat, 0, config.heartbeat_interval_ms(),
                    TimeUnit.MILLISECONDS);
            renewals = scheduler.scheduleWithFixedDelay(this::renewLease, 0, t.renewEvery(), TimeUnit.MILLISECONDS);
            guard = guards.scheduleWithFixedDelay(this::guardLease, 0, Math.min(250, config.heartbeat_interval_ms()),
                    TimeUnit.MILLISECONDS);
        }

        /** Stops checkpoints, heartbeats, renewals and the guard; the fencing watchdog keeps its last deadline. */
        void stop() {
            stopped = true;
            try {
                Files.deleteIfExists(previousMemory(settings.vm()));
            } catch (IOException e) {
                LOG.fine("cannot remove the previous memory image of " + settings.vm() + ": " + e.getMessage());
            }
            for (ScheduledFuture<?> f : java.util.Arrays.asList(checkpoints, beats, renewals, guard)) {
                if (f != null) {
                    f.cancel(false);
                }
            }
            closeBeatChannel();
        }

        CheckpointStatus status() {
            return new CheckpointStatus(settings.vm(), CheckpointStatus.Role.PRIMARY, settings.backup().toString(),
                    settings, last, lastError, null, epoch);
        }

        private void scheduled() {
            try {
                checkpoint();
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "checkpoint of " + settings.vm() + " failed: " + e.getMessage());
            }
        }

        synchronized CheckpointRecord checkpoint() {
            if (stopped) {
                throw new CheckpointException(Reason.INVALID, "checkpoints of " + settings.vm() + " are disabled");
            }
            try {
                CheckpointRecord r = take();
                last = r;
                lastError = null;
                return r;
            } catch (CheckpointException e) {
                lastError = e.getMessage();
                throw e;
            } catch (IOException | RuntimeException e) {
                lastError = e.getMessage();
                throw new CheckpointException(Reason.UNAVAILABLE, "checkpoint of " + settings.vm() + " failed: "
                        + e.getMessage(), e);
            }
        }

        private CheckpointRecord take() throws IOException {
            String vm = settings.vm();
            Hypervisor h = hypervisor(settings.host());
            long sequence = nextSequence++;
            List<DomainDisks.Disk> before = DomainDisks.of(h.domainXml(vm));
            try {
                h.monitorCommand(vm, "migrate_set_parameter downtime-limit 30");
            } catch (RuntimeException e) {
                LOG.fine("no downtime limit for " + vm + ": " + e.getMessage());
            }
            Path memory = work.resolve(vm + "-" + sequence + ".mem");
            List<Path> temporary = new ArrayList<>(List.of(memory));
            long started = System.nanoTime();
            Instant takenAt = Instant.now();
            Path overlays = before.isEmpty() ? work : before.get(0).active().toAbsolutePath().getParent();
            h.snapshotWithMemory(vm, "ferry-" + sequence, memory, overlays);
            long pause = pause(h, vm);
            String xml = h.domainXml(vm);
            boolean full = !settings.incremental() || confirmed != sequence - 1;
            try {
                Header header = new Header(vm, channels.agentId(), sequence, full ? -1 : sequence - 1, epoch,
                        takenAt.toEpochMilli(), settings.compression(), -1, salt());
                long sent;
                long raw;
                try (Channel c = channels.open(settings.backup(), PURPOSE, Duration.ofSeconds(10))) {
                    DataOutputStream out = new DataOutputStream(new BufferedOutputStream(c.output(), 1 << 16));
                    out.writeUTF("CHECKPOINT");
                    out.writeUTF(vm);
                    CheckpointWriter w = new CheckpointWriter(out, header, key, null);
                    w.section(Section.XML, "", xml.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    Path previousMemory = previousMemory(vm);
                    long memoryBytes = Files.size(memory);
                    long memorySection = memoryBytes;
                    if (!full && Files.exists(previousMemory) && MemoryDelta.fits(previousMemory, memory)) {
                        // only what changed since the previous checkpoint's image (see MemoryDelta)
                        Path delta = work.resolve(vm + "-" + sequence + ".mdelta");
                        temporary.add(delta);
                        memorySection = MemoryDelta.encode(previousMemory, memory, delta);
                        try (InputStream m = new BufferedInputStream(Files.newInputStream(delta), 1 << 16)) {
                            w.section(Section.MEMORY_DELTA, Long.toString(sequence - 1), m, memorySection);
                        }
                    } else {
                        try (InputStream m = new BufferedInputStream(Files.newInputStream(memory), 1 << 16)) {
                            w.section(Section.MEMORY, "", m, memoryBytes);
                        }
                    }
                    for (DomainDisks.Disk d : before) {
                        Path part = d.active();
                        Section type = Section.DISK_DELTA;
                        if (full || d.backing() == null) {
                            part = work.resolve(vm + "-" + sequence + "-" + d.target() + ".qcow2");
                            temporary.add(part);
                            disks.flatten(d.active(), part);
                            type = Section.DISK_FULL;
                        }
                        try (InputStream in = new BufferedInputStream(Files.newInputStream(part), 1 << 16)) {
                            w.section(type, d.target(), in, Files.size(part));
                        }
                    }
                    sent = w.finish();
                    raw = w.rawBytes() - memorySection + memoryBytes;
                    out.flush();
                    DataInputStream in = new DataInputStream(c.input());
                    String answer = in.readUTF();
                    if (!"OK".equals(answer)) {
                        throw new CheckpointException("FENCED".equals(answer) ? Reason.FENCED : Reason.REJECTED,
                                "backup refused checkpoint " + sequence + ": " + in.readUTF());
                    }
                }
                confirmed = sequence;
                if (settings.incremental()) {
                    // the base of the next memory delta (the backup has the same image in this checkpoint)
                    Files.move(memory, previousMemory(vm), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
                long duration = (System.nanoTime() - started) / 1_000_000;
                return new CheckpointRecord(vm, sequence, epoch, takenAt, raw, sent, duration, pause, !full);
            } catch (IOException | RuntimeException e) {
                Files.deleteIfExists(previousMemory(vm));
                throw e;
            } finally {
                // the frozen overlays go into their bases whether or not the backup has them: a failed one
                // makes the next checkpoint whole
                for (DomainDisks.Disk d : before) {
                    if (d.backing() != null) {
                        h.blockCommit(vm, d.target(), d.backing(), d.active());
                        Files.deleteIfExists(d.active());
                    }
                }
                for (Path t : temporary) {
                    Files.deleteIfExists(t);
                }
            }
        }

        private long pause(Hypervisor h, String vm) {
            try {
                Matcher m = DOWNTIME.matcher(h.monitorCommand(vm, "info migrate"));
                return m.find() ? Long.parseLong(m.group(1)) : -1;
            } catch (RuntimeException e) {
                return -1;
            }
        }

        private void beat() {
            if (stopped) {
                return;
            }
            try {
                if (beatChannel == null) {
                    beatChannel = channels.open(settings.backup(), PURPOSE, Duration.ofSeconds(5));
                    new DataOutputStream(beatChannel.output()).writeUTF("HEARTBEAT");
                }
                DataOutputStream out = new DataOutputStream(beatChannel.output());
                out.writeUTF(settings.vm());
                out.writeLong(epoch);
                out.writeLong(confirmed);
                out.flush();
            } catch (IOException | RuntimeException e) {
                closeBeatChannel();
            }
        }

        private void closeBeatChannel() {
            Channel c = beatChannel;
            beatChannel = null;
            if (c != null) {
                try {
                    c.close();
                } catch (IOException ignored) {
                    // already broken
                }
            }
        }

        /**
         * Renews the lease (every third of its time, more often for short leases, see {@link Fencing.Times});
         * fences (stops) the VM when the lease moved. A renewal may block (IT center slow or cut off): the pause
         * and the fence deadline are the {@link #guardLease guard}'s, on its own thread.
         */
        private void renewLease() {
            synchronized (renewing) {
                if (stopped) {
                    return;
                }
                String vm = settings.vm();
                long sentAt = Fencing.bootMillis();
                try {
                    leases.renew(vm, epoch, ttl());
                } catch (CheckpointException e) {
                    if (e.reason() == Reason.FENCED && !stopped) {
                        fence(e.getMessage());
                        return;
                    }
                    lastError = "lease not renewed: " + e.getMessage();
                    return;
                }
                synchronized (pausing) {
                    renewedAt = Math.max(renewedAt, sentAt);
                    holdFence();
                    if (pausedForLease && !stopped) {
                        try {
                            hypervisor(settings.host()).resume(vm);
                            pausedForLease = false;
                            LOG.info("lease of " + vm + " renewed: resumed");
                        } catch (RuntimeException x) {
                            LOG.warning("cannot resume " + vm + ": " + x.getMessage());
                        }
                    }
                }
            }
        }

        /**
         * Every quarter second: without a granted renewal for the pause time the VM is paused (the IT center
         * counts the lease from when it received the renewal, this agent from before it sent it, so the VM is
         * paused before the backup can take the lease over); then the fencing watchdog's deadline is moved: the
         * last renewal + fence time while the VM runs, now + fence time while this agent holds it paused.
         */
        private void guardLease() {
            if (stopped) {
                return;
            }
            try {
                synchronized (pausing) {
                    long now = Fencing.bootMillis();
                    if (!availabilityFirst() && !pausedForLease && now - renewedAt > times().pauseAfter()) {
                        String vm = settings.vm();
                        try {
                            hypervisor(settings.host()).suspend(vm);
                            pausedForLease = true;
                            LOG.warning("cannot renew the lease of " + vm + ": paused until it is renewed");
                        } catch (RuntimeException s) {
                            LOG.warning("cannot pause " + vm + ": " + s.getMessage());
                        }
                    }
                    holdFence();
                }
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "lease guard of " + settings.vm() + ": " + e.getMessage(), e);
            }
        }

        private void holdFence() {
            if (epoch <= 0 || stopped) {
                return;
            }
            long fenceAfter = times().fenceAfter();
            long deadline = pausedForLease ? Math.max(renewedAt, Fencing.bootMillis()) + fenceAfter
                    : renewedAt + fenceAfter;
            fencing.hold(settings.vm(), hypervisor(settings.host()).uri(), deadline);
        }

        private void fence(String why) {
            String vm = settings.vm();
            LOG.warning("the lease of " + vm + " moved (" + why + "): stopping it here");
            stop();
            primaries.remove(vm, this);
            try {
                hypervisor(settings.host()).stop(vm, true);
            } catch (RuntimeException e) {
                LOG.warning("cannot stop " + vm + ": " + e.getMessage());
            }
            lastError = "fenced: " + why;
            forgetPrimary(vm);
            fencing.release(vm);
            leases.audit("checkpoint.fenced", vm, why);
        }

        private byte[] salt() {
            byte[] s = new byte[16];
            random.nextBytes(s);
            return s;
        }
    }

    // ---------------------------------------------------------------- primaries across restarts

    private Path primaryRecord(String vm) {
        return work.resolve("primaries").resolve(vm + ".properties");
    }

    /** Writes down that this agent protects the VM, so that a restarted agent resumes or fences it. */
    private void remember(CheckpointSettings s) {
        java.util.Properties p = new java.util.Properties();
        p.setProperty("vm", s.vm());
        p.setProperty("host", s.host());
        p.setProperty("backup", s.backup().agentId() + "@" + s.backup().host() + ":" + s.backup().port());
        p.setProperty("interval", Long.toString(s.interval().toMillis()));
        p.setProperty("compression", s.compression().name());
        p.setProperty("incremental", Boolean.toString(s.incremental()));
        try {
            Path file = primaryRecord(s.vm());
            Files.createDirectories(file.getParent());
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            try (java.io.OutputStream o = Files.newOutputStream(tmp)) {
                p.store(o, "Ferry checkpoints: this agent is the primary of " + s.vm());
            }
            BackupStore.fsync(tmp);
            Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            LOG.warning("cannot record the protection of " + s.vm() + ": " + e.getMessage());
        }
    }

    private void forgetPrimary(String vm) {
        try {
            Files.deleteIfExists(primaryRecord(vm));
        } catch (IOException e) {
            LOG.warning("cannot remove the record of " + vm + ": " + e.getMessage());
        }
        fencing.release(vm);
    }

    /**
     * After a restart of this agent: every VM it was primary of is checked against its lease. Still
     * this agent's: protection resumes (the next checkpoint is whole). Moved to another agent (the
     * backup recovered it meanwhile): the VM is stopped here. IT center or hypervisor not reachable
     * yet: the VM is paused (safety) and the check is tried again.
     */
    private void resumePrimaries() {
        Path dir = work.resolve("primaries");
        if (!Files.isDirectory(dir)) {
            return;
        }
        boolean again = false;
        try (java.nio.file.DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.properties")) {
            for (Path f : files) {
                java.util.Properties p = new java.util.Properties();
                try (InputStream in = Files.newInputStream(f)) {
                    p.load(in);
                }
                String vm = p.getProperty("vm");
                if (vm == null || primaries.containsKey(vm)) {
                    continue;
                }
                CheckpointSettings s = new CheckpointSettings(vm, p.getProperty("host"),
                        io.ferry.api.channel.AgentAddress.parse(p.getProperty("backup")),
                        Duration.ofMillis(Long.parseLong(p.getProperty("interval"))),
                        io.ferry.api.checkpoint.Compression.valueOf(p.getProperty("compression")),
                        Boolean.parseBoolean(p.getProperty("incremental")));
                again |= !resumePrimary(s);
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, "cannot read the recorded primaries: " + e.getMessage(), e);
            again = true;
        }
        if (again) {
            scheduler.schedule(this::resumePrimaries, 2, TimeUnit.SECONDS);
        }
    }

    /** Returns false to be tried again. */
    private boolean resumePrimary(CheckpointSettings s) {
        String vm = s.vm();
        Hypervisor h = hypervisors.apply(s.host());
        if (h == null) {
            return false;
        }
        try {
            if (!h.exists(vm) || !h.domain(vm).state().isActive()) {
                LOG.info(vm + " no longer runs on " + s.host() + ": its protection ends");
                forgetPrimary(vm);
                return true;
            }
            LeaseClient.Lease l;
            try {
                l = leases.get(vm);
            } catch (CheckpointException e) {
                if (e.reason() == Reason.NOT_FOUND) {
                    l = new LeaseClient.Lease(vm, null, 0, true);
                } else {
                    throw e;
                }
            }
            if (l.holder() != null && !channels.agentId().equals(l.holder())) {
                LOG.warning("the lease of " + vm + " moved to " + l.holder() + " (epoch " + l.epoch()
                        + ") while this agent was down: stopping it here");
                h.stop(vm, true);
                forgetPrimary(vm);
                leases.audit("checkpoint.fenced", vm, "lease at " + l.holder() + " epoch " + l.epoch()
                        + " after the old primary's restart");
                return true;
            }
            if (h.domain(vm).state() == DomainState.PAUSED) {
                h.resume(vm);
            }
            enable(s, false);
            LOG.info("protection of " + vm + " resumed after a restart");
            return true;
        } catch (CheckpointException e) {
            if (e.reason() == Reason.FENCED) {
                LOG.warning("not resuming " + vm + ": " + e.getMessage() + "; stopping it here");
                try {
                    h.stop(vm, true);
                } catch (RuntimeException x) {
                    LOG.warning("cannot stop " + vm + ": " + x.getMessage());
                }
                forgetPrimary(vm);
                return true;
            }
            if (!availabilityFirst()) {
                try {
                    if (h.domain(vm).state() == DomainState.RUNNING) {
                        h.suspend(vm);
                        LOG.warning("lease of " + vm + " unknown after a restart (" + e.getMessage() + "): paused");
                    }
                } catch (RuntimeException x) {
                    LOG.warning("cannot pause " + vm + ": " + x.getMessage());
                }
            }
            return false;
        } catch (RuntimeException e) {
            LOG.warning("cannot resume the protection of " + vm + " yet: " + e.getMessage());
            return false;
        }
    }

    /**
     * Whether this agent may run a VM it was primary of: asks the IT center for the lease. An old
     * primary that comes back calls this before starting the VM again.
     */
    public boolean mayRun(String vm, long epoch) {
        LeaseClient.Lease l = leases.get(vm);
        return channels.agentId().equals(l.holder()) && l.epoch() == epoch;
    }

    // ---------------------------------------------------------------- backup

    /**
     * The backup's side. {@code KEY}, {@code CHECKPOINT} and {@code HEARTBEAT} for a VM are accepted
     * only from the VM's paired primary holding its lease at the epoch it claims ({@link SenderCheck});
     * a refusal leaves the key, the stored checkpoints and the failure detection as they were.
     */
    @Override
    public void accept(Channel channel) throws IOException {
        DataInputStream in = new DataInputStream(new BufferedInputStream(channel.input(), 1 << 16));
        DataOutputStream out = new DataOutputStream(channel.output());
        String type = in.readUTF();
        switch (type) {
            case "KEY" -> {
                String vm = in.readUTF();
                long epoch = in.readLong();
                byte[] key = in.readNBytes(32);
                if (key.length != 32) {
                    throw new EOFException("short key");
                }
                if (store.recovered(vm)) {
                    out.writeUTF("FENCED: " + vm + " was recovered here");
                } else if (!authorized(SenderCheck.KEY, vm, channel.peerAgentId(), epoch, out)) {
                    // refused: answered, nothing stored
                } else {
                    seal.put(keyName(vm), key);
                    heartbeats.put(vm, new Beat(channel.peerAgentId(), epoch, -1, Instant.now()));
                    out.writeUTF("OK");
                    out.writeLong(store.latest(vm).map(StoredCheckpoint::sequence).orElse(0L));
                }
                out.flush();
            }
            case "CHECKPOINT" -> {
                String vm = in.readUTF();
                try {
                    String peer = channel.peerAgentId();
                    // a foreign sender is refused before the key is even read; the lease is checked on the
                    // header's epoch before anything is stored
                    senders.requirePaired(SenderCheck.CHECKPOINT, vm, peer);
                    byte[] key = seal.get(keyName(vm));
                    StoredCheckpoint s = store.receive(vm, peer, in, key,
                            h -> senders.authorize(SenderCheck.CHECKPOINT, vm, peer, h.epoch()));
                    out.writeUTF("OK");
                    out.flush();
                    LOG.fine("checkpoint " + s.sequence() + " of " + vm + " stored");
                } catch (CheckpointException e) {
                    LOG.warning(e.getMessage());
                    out.writeUTF(e.reason() == Reason.FENCED ? "FENCED" : "REJECTED");
                    out.writeUTF(e.getMessage());
                    out.flush();
                } catch (RuntimeException e) {
                    out.writeUTF("REJECTED");
                    out.writeUTF(String.valueOf(e.getMessage()));
                    out.flush();
                }
            }
            case "DISABLE" -> {
                String vm = in.readUTF();
                long epoch = in.readLong();
                out.writeUTF(disabledBy(vm, channel.peerAgentId(), epoch));
                out.flush();
            }
            case "HEARTBEAT" -> {
                while (true) {
                    String vm;
                    try {
                        vm = in.readUTF();
                    } catch (EOFException e) {
                        return;
                    }
                    long epoch = in.readLong();
                    long sequence = in.readLong();
                    try {
                        senders.authorize(SenderCheck.HEARTBEAT, vm, channel.peerAgentId(), epoch);
                    } catch (CheckpointException e) {
                        continue; // logged and audited; the VM's failure detection is not touched
                    }
                    heartbeats.put(vm, new Beat(channel.peerAgentId(), epoch, sequence, Instant.now()));
                }
            }
            default -> throw new IOException("unknown checkpoint message " + type);
        }
    }

    /**
     * A DISABLE: the paired primary ends the protection of the VM. Accepted only from it, holding the
     * lease at the epoch it claims or having released it at that epoch ({@link SenderCheck}); then this
     * backup forgets the VM. Returns the answer.
     */
    private synchronized String disabledBy(String vm, String peer, long epoch) {
        if (store.recovered(vm)) {
            return "FENCED: " + vm + " was recovered here";
        }
        try {
            senders.authorize(SenderCheck.DISABLE, vm, peer, epoch);
        } catch (CheckpointException e) {
            return "REFUSED: " + e.getMessage();
        }
        forget(vm, "its primary " + peer + " disabled its protection (lease epoch " + epoch + ")");
        return "OK";
    }

    /**
     * The backup side of the end of a VM's protection: no more watching (failure detection), the pairing,
     * the stored checkpoints and disk bases, and the VM's key are gone; a KEY from a lease holder pairs
     * again. A VM recovered here keeps the disks it runs from.
     */
    private synchronized void forget(String vm, String why) {
        heartbeats.remove(vm);
        recoveryAttempts.remove(vm);
        senders.unpair(vm);
        try {
            store.forget(vm);
        } catch (IOException | RuntimeException e) {
            LOG.warning("cannot remove the checkpoints of " + vm + ": " + e.getMessage());
        }
        if (!primaries.containsKey(vm) && !store.recovered(vm)) {
            try {
                seal.delete(keyName(vm));
            } catch (RuntimeException e) {
                LOG.warning("cannot delete the key of " + vm + ": " + e.getMessage());
            }
        }
        LOG.info("forgot " + vm + ": " + why);
        leases.audit("checkpoint.forgotten", vm, why);
    }

    /** Checks a KEY's sender; on refusal answers it and returns false. */
    private boolean authorized(String kind, String vm, String peer, long epoch, DataOutputStream out)
            throws IOException {
        try {
            senders.authorize(kind, vm, peer, epoch);
            return true;
        } catch (CheckpointException e) {
            out.writeUTF("REFUSED: " + e.getMessage());
            return false;
        }
    }

    private void detectFailures() {
        if (!"automatic".equalsIgnoreCase(config.failover())) {
            return;
        }
        Instant now = Instant.now();
        for (Map.Entry<String, Beat> e : heartbeats.entrySet()) {
            String vm = e.getKey();
            Beat b = e.getValue();
            if (Duration.between(b.at(), now).toMillis() < config.failure_timeout_ms() || recovered.containsKey(vm)
                    || store.latest(vm).isEmpty()) {
                continue;
            }
            long lastAttempt = recoveryAttempts.getOrDefault(vm, 0L);
            if (System.currentTimeMillis() - lastAttempt < 5000) {
                continue;
            }
            recoveryAttempts.put(vm, System.currentTimeMillis());
            LOG.warning("primary " + b.primary() + " of " + vm + " silent since " + b.at() + ": recovering");
            try {
                recover(vm, null, RecoveryListener.NONE);
            } catch (CheckpointException x) {
                LOG.warning("no recovery of " + vm + " yet: " + x.getMessage());
            }
        }
    }

    @Override
    public synchronized RecoveryResult recover(String vm, String host, RecoveryListener listener) {
        long started = System.nanoTime();
        Instant startedAt = Instant.now();
        String target = host == null || host.isBlank() ? config.recovery_host() : host;
        Hypervisor h = hypervisor(target);
        StoredCheckpoint latest = store.latest(vm).orElseThrow(
                () -> new CheckpointException(Reason.NOT_FOUND, "no complete checkpoint of " + vm + " here"));
        listener.progress("asking the IT center for the lease of " + vm, 5);
        long epoch = takeLease(vm, latest);
        listener.progress("decrypting checkpoint " + latest.sequence(), 20);
        byte[] key = seal.get(keyName(vm));
        BackupStore.Recovery r = store.takeForRecovery(vm, key, work, epoch);
        try {
            String saved;
            try {
                saved = DomainDisks.saveImageXml(r.memory());
            } catch (IOException e) {
                saved = null;
            }
            String xml = DomainDisks.repoint(saved != null ? saved : r.domainXml(), r.disks());
            listener.progress("restoring " + vm + " on " + target, 60);
            h.restore(r.memory(), xml, false);
            // a persistent definition on this host: the recovered VM outlives this agent (and its restarts)
            listener.progress("defining " + vm + " on " + target, 90);
            try {
                h.define(xml);
            } catch (RuntimeException e) {
                LOG.warning(vm + " runs on " + target + " but could not be defined there (it stays transient): "
                        + e.getMessage());
            }
        } finally {
            try {
                Files.deleteIfExists(r.memory());
            } catch (IOException ignored) {
                // the work folder is cleaned at the next recovery
            }
        }
        long millis = (System.nanoTime() - started) / 1_000_000;
        Beat beat = heartbeats.get(vm);
        Instant lastAlive = beat != null && beat.at().isBefore(startedAt) ? beat.at() : startedAt;
        Duration lost = Duration.between(latest.takenAt(), lastAlive);
        RecoveryResult result = new RecoveryResult(vm, target, latest.sequence(), epoch, latest.takenAt(), millis,
                lost.isNegative() ? Duration.ZERO : lost);
        recovered.put(vm, result);
        heartbeats.remove(vm);
        listener.progress(vm + " runs on " + target, 100);
        leases.audit("checkpoint.recovered", vm, "checkpoint " + latest.sequence() + " at epoch " + epoch + " in "
                + millis + " ms, work lost at most " + result.workLost().toMillis() + " ms");
        LOG.info("recovered " + vm + " from checkpoint " + latest.sequence() + " in " + millis + " ms");
        return result;
    }

    /**
     * The lease for the recovery: already ours, or taken over once the primary's expired — only the lease at
     * the epoch this backup protects (the latest its paired primary's KEY, checkpoints or heartbeats were
     * accepted at). A released lease means the primary ended the protection (checkpoint:disable, whose
     * DISABLE did not reach this backup): the VM is forgotten here, not recovered. A lease at another epoch
     * was never this backup's to take (say protection was disabled and enabled again without reaching it).
     */
    private long takeLease(String vm, StoredCheckpoint latest) {
        try {
            LeaseClient.Lease l = leases.get(vm);
            if (channels.agentId().equals(l.holder())) {
                return l.epoch();
            }
            long protectedEpoch = protectedEpoch(vm, latest);
            if (l.holder() == null) {
                if (l.epoch() >= protectedEpoch) {
                    forget(vm, "its lease was released at epoch " + l.epoch() + " (protection disabled by its primary)");
                    throw new CheckpointException(Reason.NOT_FOUND, vm + " is no longer protected: its primary "
                            + "released the lease at epoch " + l.epoch() + "; forgotten here");
                }
                throw new CheckpointException(Reason.FENCED, "the lease of " + vm + " is released at epoch " + l.epoch());
            }
            if (l.epoch() != protectedEpoch) {
                throw new CheckpointException(Reason.FENCED, "the lease of " + vm + " is at epoch " + l.epoch()
                        + " (held by " + l.holder() + "), this backup protects epoch " + protectedEpoch);
            }
            return leases.takeOver(vm, l.epoch(), ttl()).epoch();
        } catch (CheckpointException e) {
            if (e.reason() == Reason.UNAVAILABLE && availabilityFirst()) {
                LOG.warning("IT center unreachable, recovering " + vm + " without the lease (availability mode)");
                return latest.epoch() + 1;
            }
            if (e.reason() == Reason.FENCED || e.reason() == Reason.UNAVAILABLE) {
                throw new CheckpointException(e.reason(), "not recovering " + vm + ": " + e.getMessage(), e);
            }
            throw e;
        }
    }

    /** The lease epoch this backup protects the VM at: the latest it accepted from the paired primary. */
    private long protectedEpoch(String vm, StoredCheckpoint latest) {
        long e = latest.epoch();
        Beat b = heartbeats.get(vm);
        if (b != null) {
            e = Math.max(e, b.epoch());
        }
        return Math.max(e, senders.pairedEpoch(vm));
    }

    // ---------------------------------------------------------------- status

    /** The last recovery of a VM by this agent, or null. */
    public RecoveryResult lastRecovery(String vm) {
        return recovered.get(vm);
    }

    @Override
    public List<CheckpointStatus> status() {
        List<CheckpointStatus> all = new ArrayList<>();
        for (Primary p : primaries.values()) {
            all.add(p.status());
        }
        for (Map.Entry<String, Beat> e : heartbeats.entrySet()) {
            if (primaries.containsKey(e.getKey()) || recovered.containsKey(e.getKey())) {
                continue;
            }
            if (store.recovered(e.getKey())) {
                all.add(new CheckpointStatus(e.getKey(), CheckpointStatus.Role.RECOVERED, e.getValue().primary(), null,
                        null, null, e.getValue().at(), -1));
                continue;
            }
            StoredCheckpoint s = store.latest(e.getKey()).orElse(null);
            CheckpointRecord r = s == null ? null : new CheckpointRecord(s.vm(), s.sequence(), s.epoch(), s.takenAt(),
                    -1, s.storedBytes(), -1, -1, false);
            all.add(new CheckpointStatus(e.getKey(), CheckpointStatus.Role.BACKUP, e.getValue().primary(), null, r,
                    null, e.getValue().at(), -1));
        }
        for (RecoveryResult r : recovered.values()) {
            all.add(new CheckpointStatus(r.vm(), CheckpointStatus.Role.RECOVERED, null, null, null, null, null,
                    r.epoch()));
        }
        all.sort((a, b) -> a.vm().compareTo(b.vm()));
        return all;
    }

    @Override
    public List<StoredCheckpoint> stored() {
        return store.list();
    }
}
