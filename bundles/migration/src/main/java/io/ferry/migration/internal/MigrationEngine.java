package io.ferry.migration.internal;

import java.io.IOException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Phaser;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

import io.ferry.api.attestation.PeerAttestation;
import io.ferry.api.attestation.Verdict;
import io.ferry.api.channel.AgentChannels;
import io.ferry.api.channel.Channel;
import io.ferry.api.channel.ChannelException;
import io.ferry.api.hypervisor.DomainState;
import io.ferry.api.hypervisor.DomainSummary;
import io.ferry.api.hypervisor.Hypervisor;
import io.ferry.api.hypervisor.HypervisorException;
import io.ferry.api.hypervisor.MigrationOptions;
import io.ferry.api.hypervisor.MigrationResult;
import io.ferry.api.hypervisor.NoSuchDomainException;
import io.ferry.api.itcenter.ItCenterLink;
import io.ferry.api.migration.Cause;
import io.ferry.api.migration.MigrationOutcome;
import io.ferry.api.migration.MigrationRequest;
import io.ferry.api.migration.MigrationStatus;
import io.ferry.api.migration.Phase;
import io.ferry.api.migration.ProgressListener;
import io.ferry.api.policy.Decision;
import io.ferry.api.policy.DecisionRequest;
import io.ferry.api.policy.Device;
import io.ferry.api.policy.Direction;
import io.ferry.api.policy.PolicyException;
import io.ferry.api.policy.PolicyService;
import io.ferry.api.policy.SignedPolicy;
import io.ferry.api.protection.HypervisorProtection;
import io.ferry.api.protection.IntegrityCheck;
import io.ferry.migration.internal.Wire.Message;
import io.ferry.migration.internal.Wire.Offer;
import io.ferry.migration.internal.Wire.Reply;
import io.ferry.migration.internal.Wire.Type;

/**
 * The migrate-out and migrate-in flows (see docs/migration.md for the protocol and the state
 * machine). The rule that runs through both: until the target has confirmed that the VM runs
 * there, every failure aborts libvirt's job and leaves the VM running on the source, and the
 * target removes whatever partial domain it has.
 */
public final class MigrationEngine implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(MigrationEngine.class.getName());
    /** How many used session ids the target remembers (each 128 random bits, so no collision by chance). */
    private static final int SESSIONS_REMEMBERED = 100_000;
    /** In the PROTECTION phase's note when the flow relied on a result of protection's own checks. */
    public static final String YOUNG_RESULT_NOTE = "hypervisor protection's own check of ";

    /** Ends the flow: why, in which phase, and where the VM runs. */
    private static final class Stop extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final Cause cause;

        Stop(Cause cause, String reason) {
            super(reason, null, false, false);
            this.cause = cause;
        }
    }

    /**
     * The limits a flow runs under; from the component's configuration.
     *
     * @param protectionMaxAge how old (from the start of its measurement to the PROTECTION phase) a result of
     *                         hypervisor protection's own checks may be for the flow to rely on it instead of
     *                         checking the VM now; zero: always check now
     */
    public record Limits(String host, Duration control, Duration timeout, Duration maxDowntime, Duration protectionWait,
            boolean protectionRequired, int historySize, Duration partialGrace, Duration protectionMaxAge) {
        public static Limits of(MigrationConfig c) {
            return new Limits(c.host(), Duration.ofMillis(c.control_timeout_ms()), Duration.ofSeconds(c.timeout_s()),
                    Duration.ofMillis(c.max_downtime_ms()), Duration.ofMillis(c.protection_wait_ms()),
                    c.protection_required(), c.history_size(), Duration.ofSeconds(10),
                    Duration.ofMillis(Math.max(0, c.protection_max_age_ms())));
        }

        /** Always checks the VM now (no protection result of another moment is relied on). */
        public Limits(String host, Duration control, Duration timeout, Duration maxDowntime, Duration protectionWait,
                boolean protectionRequired, int historySize, Duration partialGrace) {
            this(host, control, timeout, maxDowntime, protectionWait, protectionRequired, historySize, partialGrace,
                    Duration.ZERO);
        }
    }

    private final Limits limits;
    private final StreamSockets streams;
    private final Environment env;
    private final TunnelGate gate = new TunnelGate();
    private final SecureRandom random = new SecureRandom();
    private final Map<String, Flight> flights = new ConcurrentHashMap<>();
    private final Deque<MigrationOutcome> history = new ArrayDeque<>();
    /** Session ids seen by migrate-in, oldest first: a session is used once, even when refused. */
    private final Map<String, Boolean> usedSessions = new LinkedHashMap<>() {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            return size() > SESSIONS_REMEMBERED;
        }
    };
    private final ScheduledExecutorService timer;
    private final ExecutorService workers;
    private final MigrationStore store;
    /**
     * Set when the agent stops: new flows are refused, running ones end as ABORTED. Written, and read by a
     * starting flow, under the lock of {@link #flights}: a flow either is in {@code flights} when close() stops
     * them, or sees {@code closed} and records nothing.
     */
    private volatile boolean closed;
    /**
     * The flows in progress, so that {@link #close} can wait for them: each records its outcome in the state
     * folder at its end, and none runs on this engine's executors (a migrate-in runs on the channel server's
     * thread, a migrate-out on its caller's), so awaiting the executors does not cover them. One party per flow
     * plus the engine's own: close() deregisters the engine's party, and the phaser advances (and terminates)
     * once the last flow has deregistered; close() waits for that advance, bounded. A Phaser rather than a
     * counter with a lock and a condition: it counts up and down and waits for zero with a timeout without
     * hand-written waiting, which a CountDownLatch (fixed count) or a Semaphore (no wait for "none left") cannot.
     */
    private final Phaser flows = new Phaser(1);

    /** Keeps used sessions and the history in memory only (unit tests). */
    public MigrationEngine(Limits limits, Environment env) {
        this(limits, env, null);
    }

    /**
     * @param stateDir where used session ids and the history are kept across restarts (see
     *                 {@link MigrationStore}); null: in memory only
     */
    public MigrationEngine(Limits limits, Environment env, java.nio.file.Path stateDir) {
        this(limits, env, stateDir, null);
    }

    /**
     * @param streams where QEMU's migration stream sockets are (see {@link StreamSockets}); null: migrate-outs
     *                carry the VM state in libvirt's tunnel, and this agent takes no QEMU stream in
     */
    public MigrationEngine(Limits limits, Environment env, java.nio.file.Path stateDir, StreamSockets streams) {
        this.limits = limits;
        this.streams = streams;
        this.env = env;
        this.store = stateDir == null ? null : new MigrationStore(stateDir, SESSIONS_REMEMBERED, limits.historySize());
        if (store != null) {
            store.sessions().forEach(s -> usedSessions.put(s, Boolean.TRUE));
            history.addAll(store.history());
        }
        AtomicInteger n = new AtomicInteger();
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "ferry-migration-timer"));
        this.workers = Executors.newCachedThreadPool(r -> daemon(r, "ferry-migration-" + n.incrementAndGet()));
    }

    TunnelGate gate() {
        return gate;
    }

    /**
     * The QEMU stream handler of this agent's migrate-ins, joining admitted channels to the incoming QEMU's
     * socket; null when the engine has no stream folder.
     */
    public QemuStreamHandler streamHandler() {
        return streams == null ? null : new QemuStreamHandler(streams.agentFolder(), gate);
    }

    /** The libvirt tunnel handler of this agent's migrate-ins, joining admitted channels to that libvirtd. */
    public LibvirtTunnelHandler tunnelHandler(java.net.InetSocketAddress libvirt) {
        return new LibvirtTunnelHandler(libvirt, gate);
    }

    /**
     * Stops the engine: new migrations are refused, running ones are stopped (ABORTED), and close returns once
     * they have recorded their outcome, or after about 5 s for each kind of thread (logged). The libvirt
     * tunnels ({@link LibvirtTunnelHandler}, {@link TunnelGate}) are not waited for: they write nothing to the
     * state folder, and stopping a migrate-in closes its tunnels.
     */
    @Override
    public void close() {
        boolean first;
        List<Flight> running;
        synchronized (flights) {
            first = !closed;
            closed = true;
            running = List.copyOf(flights.values());
        }
        for (Flight f : running) {
            f.stop(Cause.ABORTED, "this agent is stopping");
        }
        timer.shutdownNow();
        workers.shutdownNow();
        // A flight ending now still records its outcome in the state folder; a restarted engine owns that folder
        // next, so this one's threads, and the channel server's threads running migrate-ins, get a bounded moment
        // to finish their writes before close returns.
        try {
            warnIfUnfinished("timer", timer.awaitTermination(5, TimeUnit.SECONDS));
            warnIfUnfinished("worker", workers.awaitTermination(5, TimeUnit.SECONDS));
            int phase = first ? flows.arriveAndDeregister() : 0; // the engine's party leaves once
            try {
                flows.awaitAdvanceInterruptibly(phase, 5, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                warnIfUnfinished("migration", false);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void warnIfUnfinished(String threads, boolean ended) {
        if (!ended) {
            LOG.warning("the migration engine closed while " + threads + " threads still run: an outcome they record "
                    + "may reach the state folder after this engine stopped");
        }
    }

    // ---------------------------------------------------------------------------------- queries

    public List<MigrationStatus> inFlight() {
        return flights.values().stream().map(Flight::status).toList();
    }

    public List<MigrationOutcome> history() {
        synchronized (history) {
            return List.copyOf(history);
        }
    }

    public boolean abort(String idOrVm) {
        List<Flight> matches = flights.values().stream()
                .filter(f -> f.id.equals(idOrVm) || f.id.startsWith(idOrVm) && idOrVm.length() >= 4
                        || idOrVm.equals(f.vm))
                .toList();
        if (matches.size() > 1) {
            throw new IllegalArgumentException("'" + idOrVm + "' names " + matches.size()
                    + " migrations; give more of the id");
        }
        if (matches.isEmpty()) {
            return false;
        }
        matches.get(0).stop(Cause.ABORTED, "aborted on request");
        return true;
    }

    // ------------------------------------------------------------------------------ migrate-out

    /** Runs on the caller's thread: counted in {@link #flows} so that {@link #close} waits for it. */
    public MigrationOutcome migrateOut(MigrationRequest request, ProgressListener listener) {
        boolean counted = flows.register() >= 0; // negative: closed and no flow left (refused below)
        try {
            return runMigrateOut(request, listener);
        } finally {
            if (counted) {
                flows.arriveAndDeregister();
            }
        }
    }

    private MigrationOutcome runMigrateOut(MigrationRequest request, ProgressListener listener) {
        String id = newSession();
        Flight f = new Flight(true, id, request.vm(), request.target().toString(), request.user(), listener);
        synchronized (flights) {
            if (closed) { // returned, not recorded: the state folder may belong to a restarted engine already
                return outcome(f, Cause.ABORTED, Phase.POLICY, "this agent is stopping", true,
                        new long[] { -1, -1, -1, -1, -1 });
            }
            Flight other = flights.values().stream().filter(o -> o.out && o.vm.equals(request.vm())).findFirst()
                    .orElse(null);
            if (other != null) {
                MigrationOutcome refused = outcome(f, Cause.INVALID, Phase.POLICY, request.vm()
                        + " is being migrated already (migration " + other.id + " to " + other.peer + ")", true,
                        new long[] { -1, -1, -1, -1, -1 });
                finish(refused, "out");
                return refused;
            }
            flights.put(id, f);
        }
        Duration timeout = request.timeout() != null ? request.timeout() : limits.timeout();
        long[] figures = { -1, -1, -1, -1, -1 }; // preparation, transfer, downtime, transferred, carried
        MigrationOutcome outcome;
        ScheduledFuture<?> watchdog = null;
        try {
            watchdog = timer.schedule(
                    () -> f.stop(Cause.TIMEOUT, "the migration did not finish within " + seconds(timeout)),
                    timeout.toMillis(), TimeUnit.MILLISECONDS);
            runOut(f, request, timeout, figures);
            outcome = outcome(f, Cause.NONE, Phase.DONE, "migrated; the VM runs on " + request.target().agentId(),
                    false, figures);
        } catch (Stop s) {
            outcome = outcome(f, s.cause, f.phase, s.getMessage(), runsOn(f.hypervisor, f.vm, true), figures);
            if (f.transferStarted && pausedHere(f.hypervisor, f.vm)) {
                // libvirt lost the target before it learned whether the target took over (Finish): it leaves
                // the source's copy paused. It must not be resumed while the VM may run on the target.
                outcome = outcome(f, s.cause, f.phase, s.getMessage() + "; " + f.vm + " is left PAUSED on "
                        + f.hypervisor.hostName() + " because libvirt could not learn whether " + f.peer
                        + " took it over: it is not resumed; check " + f.peer + " before resuming or removing it",
                        false, figures);
            }
        } catch (RuntimeException e) {
            if (closed) { // the agent stopped under the flow (its executors refuse work)
                outcome = outcome(f, Cause.ABORTED, f.phase, "this agent is stopping", runsOn(f.hypervisor, f.vm, true),
                        figures);
            } else {
                LOG.log(Level.WARNING, "migration " + id + " failed unexpectedly", e);
                outcome = outcome(f, Cause.INTERNAL, f.phase, "unexpected failure: " + e,
                        runsOn(f.hypervisor, f.vm, true), figures);
            }
        } finally {
            if (watchdog != null) {
                watchdog.cancel(false);
            }
            f.closeConnections();
            flights.remove(id);
        }
        f.phase(Phase.DONE, outcome.reason());
        finish(outcome, "out");
        return outcome;
    }

    private void runOut(Flight f, MigrationRequest r, Duration timeout, long[] figures) {
        // POLICY: may the VM leave for that agent at all? (The target's level follows attestation.)
        f.phase(Phase.POLICY, "");
        Hypervisor hv = hypervisor(r.host());
        f.hypervisor = hv;
        DomainSummary domain;
        try {
            domain = hv.domain(r.vm());
        } catch (NoSuchDomainException e) {
            throw new Stop(Cause.INVALID, "there is no VM named '" + r.vm() + "' on " + hv.hostName());
        }
        if (domain.state() != DomainState.RUNNING) {
            throw new Stop(Cause.INVALID, r.vm() + " is not running on " + hv.hostName() + " (it is "
                    + domain.state().name().toLowerCase() + "); only a running VM migrates live");
        }
        String uuid = domain.uuid();
        PolicyService policies = policy();
        SignedPolicy policy = policies.get(uuid).orElseThrow(() -> new Stop(Cause.POLICY,
                "this agent holds no policy for " + r.vm() + " (" + uuid + "); without one it may not leave"));
        String target = r.target().agentId();
        String best = policies.levels().highest();
        Decision pre = policies.check(request(Direction.OUT, uuid, r.user(), null, device(target, best)));
        if (!pre.allowed()) {
            // the same question, decided and audited, with the target's level still unknown
            Decision d = policies.decide(request(Direction.OUT, uuid, r.user(), null, device(target, null)));
            throw new Stop(Cause.POLICY, "the policy of " + r.vm() + " denies it: " + words(d.allowed() ? pre : d));
        }

        // The run-time integrity check (PROTECTION below) reads the guest's protected memory through libvirt
        // and takes longer than the channel and the attestation together. Hypervisor protection checks every
        // protected VM periodically anyway: a result of its own that will still be young enough at the handover
        // (at most half of protection.max.age.ms old now) is relied on, and a changed one refuses right here.
        // Otherwise a check starts now and runs alongside the channel and the attestation. Either way the flow
        // has its result before the handover, so a VM found changed is refused before the target hears of it
        // and before any VM byte moves.
        CompletableFuture<IntegrityCheck> earlyCheck = null;
        if (limits.protectionRequired()) {
            IntegrityCheck young = youngIntegrityResult(hv.hostName(), r.vm(), limits.protectionMaxAge());
            if (young != null && !young.intact()) {
                throw notIntact(r.vm(), young);
            }
            if (young == null || age(young).compareTo(limits.protectionMaxAge().dividedBy(2)) > 0) {
                earlyCheck = startIntegrityCheck(hv.hostName(), r.vm());
            }
        }

        // CHANNEL
        f.phase(Phase.CHANNEL, "opening a channel to " + r.target());
        Channel channel;
        try {
            channel = env.channels().open(r.target(), SecureMigrations.PURPOSE, limits.control());
        } catch (ChannelException e) {
            throw stopped(f, Cause.CHANNEL, e.getMessage());
        }
        f.channel = channel;
        if (f.stopped() != null) {
            throw stopped(f, Cause.ABORTED, "stopped");
        }

        // The newest periodic result, for the PROTECTION phase, is looked up while the attestation runs: the lookup
        // asks libvirt whether the domain is still the one measured, and may wait behind a round's memory read
        CompletableFuture<IntegrityCheck> newestResult = null;
        if (limits.protectionRequired() && earlyCheck == null) {
            newestResult = lookUpYoungResult(hv.hostName(), r.vm());
        }

        // ATTESTATION: the IT center's fresh verdict on the target, bound to this channel, while the target gets
        // one on us (both quotes and both judgements at once)
        f.phase(Phase.ATTESTATION, "attesting " + target + " and being attested by it");
        PeerAttestation attestation = env.attestation();
        if (attestation == null) {
            throw new Stop(Cause.ATTESTATION, "this agent has no peer attestation service, so the target cannot "
                    + "be attested (install the ferry-attestation feature)");
        }
        Verdict verdict = step(f, Cause.ATTESTATION, "attesting the target and being attested by it",
                () -> attestation.attestEachOther(channel, limits.control()));
        if (!verdict.genuine()) {
            throw new Stop(Cause.ATTESTATION, "the IT center found " + target + "'s evidence not genuine: "
                    + oneLine(verdict.explain()));
        }
        Decision decision = policies.decide(request(Direction.OUT, uuid, r.user(), null,
                device(target, verdict.level())));
        if (!decision.allowed()) {
            throw new Stop(Cause.POLICY, "the policy of " + r.vm() + " denies it: " + words(decision)
                    + "; the IT center rates " + target + " '" + verdict.level() + "'"
                    + (verdict.reasons().isEmpty() ? "" : " (" + oneLine(verdict.explain()) + ")"));
        }
        f.phase(Phase.ATTESTATION, target + " attested '" + verdict.level() + "'");

        // PROTECTION: the VM's run-time integrity, just before it leaves
        if (limits.protectionRequired()) {
            f.phase(Phase.PROTECTION, "checking " + r.vm() + "'s integrity");
            // a young result was there at the start: is one still (the newest) young enough?
            IntegrityCheck young = awaitIntegrityCheck(f, newestResult);
            if (young != null && age(young).compareTo(limits.protectionMaxAge()) > 0) {
                young = null; // it aged past the bound during the attestation
            }
            IntegrityCheck check = young;
            if (check != null) {
                f.phase(Phase.PROTECTION, r.vm() + "'s integrity: " + YOUNG_RESULT_NOTE + age(check).toMillis()
                        + " ms ago found it " + check.status().name().toLowerCase().replace('_', ' '));
            }
            if (check == null) {
                check = awaitIntegrityCheck(f, earlyCheck);
            }
            if (check == null) { // no protection service, none young enough, or the early check failed: ask now
                check = integrity(f, hv.hostName(), r.vm());
            }
            if (!check.intact()) {
                throw notIntact(r.vm(), check);
            }
            if (check != young) {
                // a periodic check that began after ours and found the VM changed is newer than our result
                IntegrityCheck newest = youngIntegrityResult(hv.hostName(), r.vm(), limits.protectionMaxAge());
                if (newest != null && !newest.intact()) {
                    throw notIntact(r.vm(), newest);
                }
            }
        }

        // HANDOVER: the VM's signed policy and the single-use session; the target decides
        f.phase(Phase.HANDOVER, "offering " + r.vm() + " to " + target);
        Message reply = step(f, Cause.CHANNEL, "the target's answer to the offer", () -> {
            Wire.write(channel.output(), new Offer(f.id, r.vm(), uuid, r.user(), policy.jws(), hv.hostName(),
                    verdict.level()));
            return Wire.read(channel.input());
        });
        if (reply.type() == Type.REFUSE) {
            throw new Stop(Cause.TARGET_REFUSED, target + " refused " + r.vm() + ": " + ((Reply) reply).reason());
        }
        expect(reply, Type.ACCEPT, f.id);

        // TRANSFER: libvirt's migration, its connection and QEMU's stream relayed inside channels to the target
        figures[0] = f.elapsedMillis();
        f.phase(Phase.TRANSFER, "");
        Transport transport;
        try {
            transport = Transport.open(env.channels(), r.target(), limits.control(), streams, f.id);
        } catch (IOException e) {
            throw new Stop(Cause.INTERNAL, "cannot open the local relays for libvirt and QEMU: " + e.getMessage());
        }
        f.transport = transport;
        CompletableFuture<Message> next = CompletableFuture.supplyAsync(() -> {
            try {
                return Wire.read(channel.input());
            } catch (IOException e) {
                throw new ChannelException("the control channel to " + target + " broke: " + e.getMessage(), e);
            }
        }, workers);
        next.whenComplete((m, e) -> {
            if (!f.transferEnded) {
                f.stop(m instanceof Reply rp && rp.type() != Type.CONFIRMED ? Cause.TARGET_REFUSED : Cause.CHANNEL,
                        e != null ? rootMessage(e) : target + " ended the migration: " + describe(m));
            }
        });
        long remaining = timeout.toMillis() - f.elapsedMillis();
        MigrationOptions options = new MigrationOptions(r.maxDowntime() != null ? r.maxDowntime()
                : limits.maxDowntime(), 0, Duration.ofMillis(Math.max(1000, remaining)), Duration.ofMillis(200),
                true); // without libvirt's UNDEFINE_SOURCE: the source's definition goes only after CONFIRMED
        options = transport.apply(options);
        MigrationResult result;
        f.transferStarted = true;
        try {
            if (f.stopped() != null) {
                throw new HypervisorException("migrate", r.vm(), "stopped before libvirt started");
            }
            result = hv.migrate(r.vm(), transport.libvirtUri(), options, f::transfer);
        } catch (HypervisorException e) {
            f.transferEnded = true;
            figures[4] = transport.bytesCarried();
            tell(channel, new Reply(Type.ABORT, f.id, "libvirt's migration failed on the source"));
            ChannelException relayFailure = transport.failure();
            if (f.stopped() != null) {
                throw stopped(f, Cause.LIBVIRT, e.getMessage());
            }
            if (relayFailure != null) {
                throw new Stop(Cause.CHANNEL, "the transfer channel to " + target + " failed: "
                        + relayFailure.getMessage());
            }
            throw new Stop(Cause.LIBVIRT, e.getMessage());
        } finally {
            f.transferEnded = true;
        }
        figures[1] = result.wallMillis();
        figures[2] = result.stats().downtimeMillis();
        figures[3] = result.stats().dataProcessed();
        figures[4] = transport.bytesCarried();
        Flight.closeQuietly(transport);

        // CONFIRMATION: libvirt says the VM runs on the target; the target agent must confirm it
        f.phase(Phase.CONFIRMATION, "waiting for " + target + " to confirm " + r.vm() + " runs there");
        Message confirmation;
        CompletableFuture<Boolean> stoppedHere;
        try {
            Wire.write(channel.output(), new Reply(Type.MIGRATED, f.id, ""));
            // while the target looks: is the source's copy the stopped definition that goes after CONFIRMED?
            stoppedHere = stoppedCopy(hv, r.vm());
            confirmation = next.get(limits.control().toMillis(), TimeUnit.MILLISECONDS);
        } catch (IOException | ExecutionException | TimeoutException e) {
            throw new Stop(Cause.UNCONFIRMED, "libvirt moved " + r.vm() + " but " + target
                    + " did not confirm it runs there (" + rootMessage(e) + "); check " + target);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Stop(Cause.UNCONFIRMED, "interrupted while waiting for the target's confirmation");
        }
        if (confirmation.type() != Type.CONFIRMED || !f.id.equals(confirmation.session())) {
            throw new Stop(Cause.UNCONFIRMED, "libvirt moved " + r.vm() + " but " + target
                    + " did not confirm it runs there: " + describe(confirmation));
        }

        // CLEANUP: the target confirmed; only now the source's (inactive) definition goes
        f.phase(Phase.CLEANUP, "removing the source's definition");
        try {
            if (stoppedHere.join()) {
                hv.undefine(r.vm());
            }
        } catch (CompletionException | HypervisorException e) {
            LOG.warning("migration " + f.id + ": the stopped copy of " + r.vm() + " stays defined on "
                    + hv.hostName() + ": " + e.getMessage());
        }
    }

    /** On a worker: whether the domain is defined here and not running (a source's copy after libvirt's move). */
    private CompletableFuture<Boolean> stoppedCopy(Hypervisor hv, String vm) {
        try {
            return CompletableFuture.supplyAsync(() -> hv.exists(vm) && !hv.domain(vm).state().isActive(), workers);
        } catch (java.util.concurrent.RejectedExecutionException e) { // stopping: the definition stays, logged
            return CompletableFuture.failedFuture(e);
        }
    }

    private static Stop notIntact(String vm, IntegrityCheck check) {
        return new Stop(Cause.PROTECTION, vm + "'s run-time integrity check did not find it intact ("
                + check.status().name().toLowerCase().replace('_', ' ') + ")"
                + (check.findings().isEmpty() ? "" : ": " + String.join("; ", check.findings())));
    }

    /**
     * Hypervisor protection's newest result of the VM if it is INTACT or CHANGED and its measurement began at
     * most {@code maxAge} ago; null when there is none that young, the bound is zero, the service is absent or
     * being swapped (then the flow checks the VM now, waiting for the successor if need be).
     */
    private IntegrityCheck youngIntegrityResult(String host, String vm, Duration maxAge) {
        if (maxAge.isZero() || maxAge.isNegative()) {
            return null;
        }
        HypervisorProtection protection = env.protection();
        if (protection == null) {
            return null;
        }
        Optional<IntegrityCheck> latest;
        try {
            latest = protection.latest(host, vm);
        } catch (RuntimeException e) { // swapped away during the call
            LOG.fine("no latest integrity result of " + vm + ": " + e);
            return null;
        }
        if (latest == null || latest.isEmpty() || !latest.get().domain().equals(vm)) {
            return null;
        }
        IntegrityCheck c = latest.get();
        if (c.status() != IntegrityCheck.Status.INTACT && c.status() != IntegrityCheck.Status.CHANGED) {
            return null; // not measured (unavailable, no baseline): ask now
        }
        Duration age = age(c);
        return !age.isNegative() && age.compareTo(maxAge) <= 0 ? c : null;
    }

    /** {@link #youngIntegrityResult} on a worker; null when the agent is stopping. */
    private CompletableFuture<IntegrityCheck> lookUpYoungResult(String host, String vm) {
        try {
            return CompletableFuture.supplyAsync(() -> youngIntegrityResult(host, vm, limits.protectionMaxAge()),
                    workers);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            return null;
        }
    }

    /** How long ago the result's measurement began. */
    private static Duration age(IntegrityCheck c) {
        return Duration.between(c.measuredAt(), Instant.now());
    }

    /**
     * Starts the integrity check on a worker if the protection service is there now; null if it is not
     * (being swapped: {@link #integrity} waits for it in the PROTECTION phase) or the agent is stopping.
     */
    private CompletableFuture<IntegrityCheck> startIntegrityCheck(String host, String vm) {
        HypervisorProtection protection = env.protection();
        if (protection == null) {
            return null;
        }
        try {
            return CompletableFuture.supplyAsync(() -> protection.check(host, vm), workers);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            return null;
        }
    }

    /**
     * The early check's (or early lookup's) result, waited for while the flight is not stopped; null when there was
     * none or it failed (the service was swapped away during the call, say): then it is asked again.
     */
    private static IntegrityCheck awaitIntegrityCheck(Flight f, CompletableFuture<IntegrityCheck> early) {
        if (early == null) {
            return null;
        }
        while (true) {
            if (f.stopped() != null) {
                throw stopped(f, Cause.ABORTED, "stopped");
            }
            try {
                return early.get(25, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                // still reading the guest's memory
            } catch (ExecutionException e) {
                LOG.fine("the early integrity check failed, asking again: " + e.getCause());
                return null;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Stop(Cause.ABORTED, "interrupted");
            }
        }
    }

    /** Waits a bounded time for the protection service (it may be being swapped) and checks the VM. */
    private IntegrityCheck integrity(Flight f, String host, String vm) {
        long deadline = System.nanoTime() + limits.protectionWait().toNanos();
        boolean waited = false;
        RuntimeException last = null;
        while (f.stopped() == null) {
            HypervisorProtection protection = env.protection();
            if (protection != null) {
                try {
                    return protection.check(host, vm);
                } catch (RuntimeException e) {
                    last = e; // swapped away during the call: ask its successor
                }
            }
            if (System.nanoTime() > deadline) {
                break;
            }
            if (!waited) {
                waited = true;
                f.phase(Phase.PROTECTION, "waiting up to " + seconds(limits.protectionWait())
                        + " for the hypervisor protection service");
            }
            sleep(25);
        }
        if (f.stopped() != null) {
            throw stopped(f, Cause.ABORTED, "stopped");
        }
        throw new Stop(Cause.PROTECTION, last != null
                ? "the run-time integrity check of " + vm + " failed: " + last.getMessage()
                : "no hypervisor protection service within " + seconds(limits.protectionWait())
                        + ", and a VM leaves only after its run-time integrity was checked");
    }

    // ------------------------------------------------------------------------------- migrate-in

    /**
     * Serves one migrate-in channel; the channel server closes the channel when this returns. Runs on the
     * channel server's thread: counted in {@link #flows} so that {@link #close} waits for it. One that arrives
     * after close began is refused at once: its channel is closed and nothing is recorded.
     */
    public void migrateIn(Channel channel) {
        boolean counted = flows.register() >= 0; // negative: closed and no flow left (refused below)
        try {
            runMigrateIn(channel);
        } finally {
            if (counted) {
                flows.arriveAndDeregister();
            }
        }
    }

    private void runMigrateIn(Channel channel) {
        Flight f = new Flight(false, "in-" + newSession().substring(0, 8), "?", channel.peerAgentId(), "?", null);
        String key = f.id;
        f.channel = channel;
        boolean refused;
        synchronized (flights) {
            refused = closed;
            if (!refused) {
                flights.put(key, f);
            }
        }
        if (refused) { // before attestation: the source sees the channel end; nothing is recorded
            LOG.info("migrate-in channel from " + f.peer + " refused: this agent is stopping");
            Flight.closeQuietly(channel);
            return;
        }
        ScheduledFuture<?> watchdog = null;
        MigrationOutcome outcome;
        try {
            watchdog = timer.schedule(
                    () -> f.stop(Cause.TIMEOUT, "the migration did not finish within " + seconds(limits.timeout())),
                    limits.timeout().toMillis() + limits.control().toMillis(), TimeUnit.MILLISECONDS);
            runIn(f, channel);
            outcome = outcome(f, Cause.NONE, Phase.DONE, "migrated in from " + f.peer + "; the VM runs here", false,
                    new long[] { -1, -1, -1, -1, -1 });
        } catch (Stop s) {
            boolean here = f.transferStarted && removePartial(f);
            outcome = outcome(f, s.cause, f.phase, s.getMessage(), !here, new long[] { -1, -1, -1, -1, -1 });
        } catch (RuntimeException e) {
            boolean here = f.transferStarted && removePartial(f);
            if (closed) { // the agent stopped under the flow (its executors refuse work)
                outcome = outcome(f, Cause.ABORTED, f.phase, "this agent is stopping", !here,
                        new long[] { -1, -1, -1, -1, -1 });
            } else {
                LOG.log(Level.WARNING, "migrate-in " + f.id + " failed unexpectedly", e);
                outcome = outcome(f, Cause.INTERNAL, f.phase, "unexpected failure: " + e, !here,
                        new long[] { -1, -1, -1, -1, -1 });
            }
        } finally {
            if (watchdog != null) {
                watchdog.cancel(false);
            }
            TunnelGate.Session t = f.tunnels;
            if (t != null) {
                t.close();
            }
            flights.remove(key);
        }
        if (outcome.vm().equals("?")) {
            LOG.info("migrate-in channel from " + f.peer + " ended before an offer: " + outcome.reason());
            return; // nothing was offered: no migration to record
        }
        finish(outcome, "in");
    }

    private void runIn(Flight f, Channel channel) {
        String source = channel.peerAgentId();
        PeerAttestation attestation = env.attestation();
        if (attestation == null) {
            throw new Stop(Cause.ATTESTATION, "this agent has no peer attestation service");
        }
        Verdict verdict = step(f, Cause.ATTESTATION, "attesting the source and being attested by it",
                () -> attestation.attestEachOther(channel, limits.control()));

        f.phase(Phase.HANDOVER, "waiting for the offer");
        Message m = step(f, Cause.CHANNEL, "the source's offer", () -> Wire.read(channel.input()));
        if (!(m instanceof Offer offer)) {
            throw new Stop(Cause.CHANNEL, "the source sent " + m.type() + " where an offer belongs");
        }
        f.id = offer.session();
        f.vm = offer.vm();
        f.user = offer.user();
        f.phase(Phase.HANDOVER, "offered " + offer.vm() + " by " + offer.user() + "@" + source);
        boolean fresh;
        synchronized (usedSessions) {
            fresh = usedSessions.putIfAbsent(offer.session(), Boolean.TRUE) == null;
        }
        if (!fresh) {
            refuse(f, channel, "session " + offer.session() + " was used already: a replayed offer is refused");
        }
        // Written to disk and forced while the policy is verified and the domains listed (each a few ms), all
        // before the answer: the session id is already taken in memory, so a replay meanwhile is refused above
        CompletableFuture<Void> recorded = store == null ? CompletableFuture.completedFuture(null)
                : CompletableFuture.runAsync(() -> store.useSession(offer.session(), () -> {
                    synchronized (usedSessions) {
                        return List.copyOf(usedSessions.keySet());
                    }
                }), workers);
        Hypervisor hv = env.hypervisor(limits.host());
        CompletableFuture<List<DomainSummary>> domains = hv == null ? null
                : CompletableFuture.supplyAsync(hv::listDomains, workers);
        if (!verdict.genuine()) {
            refuse(f, channel, "the IT center found " + source + "'s evidence not genuine: "
                    + oneLine(verdict.explain()));
        }
        PolicyService policies = env.policy();
        if (policies == null) {
            refuse(f, channel, "the target has no policy service");
        }
        try {
            policies.importPolicy(offer.policyJws(), offer.uuid());
        } catch (PolicyException e) {
            refuse(f, channel, "the target does not accept the VM's policy (" + e.reason().name().toLowerCase()
                    .replace('_', ' ') + "): " + oneLine(e.getMessage()));
        }
        Decision decision = policies.decide(request(Direction.IN, offer.uuid(), offer.user(),
                device(source, verdict.level()), device(env.channels().agentId(), emptyToNull(offer.targetLevel()))));
        if (!decision.allowed()) {
            refuse(f, channel, "the target's copy of the policy denies migrate-in: " + words(decision)
                    + "; the IT center rates " + source + " '" + verdict.level() + "'");
        }
        if (hv == null) {
            refuse(f, channel, "the target has no hypervisor host '" + limits.host() + "'");
        }
        f.hypervisor = hv;
        try {
            recorded.join();
        } catch (CompletionException e) {
            // without a durable record a replay after a restart could not be recognized: fail closed
            refuse(f, channel, "the target cannot record the session id (" + e.getCause().getMessage() + ")");
        }
        List<DomainSummary> existing;
        try {
            existing = domains.join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException c ? c : e;
        }
        for (DomainSummary d : existing) {
            if (d.name().equals(offer.vm()) || d.uuid().equalsIgnoreCase(offer.uuid())) {
                refuse(f, channel, "a domain '" + d.name() + "' (" + d.uuid() + ") exists already on the target ("
                        + d.state().name().toLowerCase() + ")");
            }
        }
        f.tunnels = gate.open(channel, offer.session());
        f.transferStarted = true;
        step(f, Cause.CHANNEL, "accepting", () -> {
            Wire.write(channel.output(), new Reply(Type.ACCEPT, offer.session(), ""));
            return null;
        });

        f.phase(Phase.TRANSFER, "receiving " + offer.vm());
        Message next;
        try {
            next = Wire.read(channel.input());
        } catch (IOException e) {
            throw stopped(f, Cause.CHANNEL, "the control channel from " + source + " broke during the transfer: "
                    + e.getMessage());
        }
        if (next.type() == Type.ABORT) {
            throw new Stop(Cause.ABORTED, source + " aborted the migration: " + ((Reply) next).reason());
        }
        expect(next, Type.MIGRATED, offer.session());

        f.phase(Phase.CONFIRMATION, "checking " + offer.vm() + " runs here");
        String problem = null;
        try {
            DomainSummary d = hv.domain(offer.vm());
            if (!d.uuid().equalsIgnoreCase(offer.uuid())) {
                problem = "the domain named " + offer.vm() + " here has UUID " + d.uuid() + ", not " + offer.uuid();
            } else if (d.state() != DomainState.RUNNING) {
                problem = offer.vm() + " is " + d.state().name().toLowerCase() + " here, not running";
            }
        } catch (HypervisorException e) {
            problem = e.getMessage();
        }
        Reply answer = new Reply(problem == null ? Type.CONFIRMED : Type.NOT_CONFIRMED, offer.session(),
                problem == null ? "" : problem);
        tell(channel, answer);
        if (problem != null) {
            throw new Stop(Cause.UNCONFIRMED, problem);
        }
        f.transferStarted = false; // it is ours now: never removed as partial
    }

    private void refuse(Flight f, Channel channel, String reason) {
        tell(channel, new Reply(Type.REFUSE, f.id, reason));
        throw new Stop(Cause.TARGET_REFUSED, reason);
    }

    /**
     * After a failed migrate-in: cuts the session's tunnels (so libvirt cannot finish it any more),
     * then removes a domain that is not running. A running one is the VM itself (libvirt finished
     * and the source's copy is gone): it stays. Returns whether the VM runs here.
     */
    private boolean removePartial(Flight f) {
        TunnelGate.Session t = f.tunnels;
        if (t != null) {
            t.close();
        }
        Hypervisor hv = f.hypervisor;
        if (hv == null) {
            return false;
        }
        long deadline = System.nanoTime() + limits.partialGrace().toNanos();
        boolean interrupted = Thread.interrupted();
        try {
            while (hv.exists(f.vm)) {
                DomainState state = hv.domain(f.vm).state();
                if (state == DomainState.RUNNING) {
                    LOG.warning("migrate-in " + f.id + " ended with " + f.vm + " running here: libvirt finished "
                            + "the move; the VM stays");
                    return true;
                }
                if (System.nanoTime() > deadline) {
                    LOG.info("migrate-in " + f.id + ": removing the partial domain " + f.vm + " (" + state + ")");
                    if (state.isActive()) {
                        hv.stop(f.vm, true);
                    }
                    if (hv.exists(f.vm)) {
                        hv.undefine(f.vm);
                    }
                    return false;
                }
                // libvirt removes an aborted incoming domain itself, normally within a second; an agent
                // that is stopping (interrupted) still finishes this cleanup
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } catch (HypervisorException e) {
            LOG.warning("migrate-in " + f.id + ": removing the partial domain " + f.vm + " failed: " + e.getMessage());
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        return false;
    }

    // -------------------------------------------------------------------------------- helpers

    private Hypervisor hypervisor(String host) {
        Hypervisor hv = env.hypervisor(host);
        if (hv == null) {
            throw new Stop(Cause.INVALID, "this agent has no hypervisor host '" + (host == null ? limits.host() : host)
                    + "'");
        }
        return hv;
    }

    private PolicyService policy() {
        PolicyService p = env.policy();
        if (p == null) {
            throw new Stop(Cause.POLICY, "this agent has no policy service (install the ferry-policy feature)");
        }
        return p;
    }

    /**
     * Runs one blocking step of the protocol under the control timeout: when it is over, the flight
     * is stopped (its channel closed), which ends the step.
     */
    private <T> T step(Flight f, Cause cause, String what, Callable<T> body) {
        Duration limit = limits.control();
        ScheduledFuture<?> alarm = timer.schedule(() -> f.stop(Cause.TIMEOUT, "no progress within "
                + seconds(limit) + " while " + what), limit.toMillis() + 1000, TimeUnit.MILLISECONDS);
        try {
            return body.call();
        } catch (Stop s) {
            throw s;
        } catch (Wire.ProtocolException e) {
            throw stopped(f, Cause.CHANNEL, what + ": the peer broke the protocol: " + e.getMessage());
        } catch (Exception e) {
            throw stopped(f, cause, what + " failed: " + rootMessage(e));
        } finally {
            alarm.cancel(false);
        }
    }

    /** A Stop with the flight's own stop reason when something stopped it (abort, timeout), else the given one. */
    private static Stop stopped(Flight f, Cause cause, String reason) {
        Flight.Stopped s = f.stopped();
        return s != null ? new Stop(s.cause(), s.reason()) : new Stop(cause, reason);
    }

    private static void expect(Message m, Type type, String session) {
        if (m.type() != type) {
            throw new Stop(Cause.CHANNEL, "the peer sent " + describe(m) + " where " + type + " belongs");
        }
        if (!m.session().equals(session)) {
            throw new Stop(Cause.CHANNEL, "the peer answered for session " + m.session() + ", not " + session);
        }
    }

    private static String describe(Message m) {
        return m instanceof Reply r && !r.reason().isEmpty() ? r.type() + " (" + r.reason() + ")" : m.type().toString();
    }

    /** Sends a message without caring whether it arrives (the peer may be gone). */
    private static void tell(Channel channel, Reply reply) {
        try {
            Wire.write(channel.output(), reply);
        } catch (IOException | RuntimeException e) {
            LOG.fine("could not tell the peer " + reply.type() + ": " + e.getMessage());
        }
    }

    /** Whether the VM is paused on this host (false when it cannot be known). */
    private static boolean pausedHere(Hypervisor hv, String vm) {
        try {
            return hv != null && hv.exists(vm) && hv.domain(vm).state() == DomainState.PAUSED;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** Whether the VM runs on this host (false when it cannot be known). */
    private static boolean runsOn(Hypervisor hv, String vm, boolean unknown) {
        if (hv == null) {
            return unknown;
        }
        try {
            return hv.exists(vm) && hv.domain(vm).state().isActive();
        } catch (RuntimeException e) {
            return unknown;
        }
    }

    private MigrationOutcome outcome(Flight f, Cause cause, Phase phase, String reason, boolean runsOnSource,
            long[] figures) {
        return new MigrationOutcome(f.id, f.vm, f.peer, f.user, cause, cause == Cause.NONE ? Phase.DONE : phase,
                reason, runsOnSource, f.started, Instant.now(), figures[0], figures[1], figures[2], figures[3],
                figures[4]);
    }

    private void finish(MigrationOutcome o, String direction) {
        synchronized (history) {
            history.addFirst(o);
            while (history.size() > Math.max(1, limits.historySize())) {
                history.removeLast();
            }
            if (store != null) {
                try {
                    store.record(o, () -> List.copyOf(history));
                } catch (RuntimeException e) {
                    LOG.warning("migration " + o.id() + " is not in the stored history: " + e.getMessage());
                }
            }
        }
        String verb = o.succeeded() ? "completed" : o.refused() ? "refused" : "failed";
        LOG.info("migration " + direction + " " + o.id() + " of " + o.vm() + " (" + o.target() + ") " + verb + ": "
                + o.reason());
        audit("migration." + direction + "." + verb, o.vm(), (direction.equals("out") ? "to " : "from ") + o.target()
                + ", user " + o.user() + ", session " + o.id() + ", " + o.cause().word() + " in " + o.phase().word()
                + ": " + o.reason());
    }

    /** Reports to the IT center's audit log, when this agent has a link to it; never blocks the flow. */
    private void audit(String kind, String vm, String detail) {
        ItCenterLink link = env.itCenter();
        if (link == null) {
            return;
        }
        String json = "{\"kind\":" + Json.quote(kind) + ",\"vm\":" + Json.quote(vm) + ",\"detail\":"
                + Json.quote(detail) + "}";
        try {
            workers.execute(() -> {
                try {
                    if (link.enrolled()) {
                        link.call("POST", "audit", json, Duration.ofSeconds(10));
                    }
                } catch (RuntimeException e) {
                    LOG.warning("audit event " + kind + " for " + vm + " not delivered: " + e.getMessage());
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            LOG.warning("audit event " + kind + " for " + vm + " not delivered: the agent is stopping");
        }
    }

    private DecisionRequest request(Direction direction, String vm, String user, Device source, Device target) {
        return new DecisionRequest(direction, vm, user, source, target, Instant.now());
    }

    private static Device device(String name, String level) {
        return new Device(name, Set.of(), level);
    }

    /** A decision in words: the rule that made it and its reason. */
    static String words(Decision d) {
        return (d.rule() != null ? "rule '" + d.rule() + "': " : "") + d.reason();
    }

    private String newSession() {
        byte[] b = new byte[16];
        random.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    private static String emptyToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replace('\n', ';').replace("  ", " ");
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while ((t instanceof ExecutionException || t instanceof java.util.concurrent.CompletionException)
                && t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Stop(Cause.ABORTED, "interrupted");
        }
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }
}
