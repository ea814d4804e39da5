package io.ferry.migration.internal;

import java.io.Closeable;
import java.io.IOException;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import java.util.logging.Logger;

import io.ferry.api.channel.Channel;
import io.ferry.api.hypervisor.Hypervisor;
import io.ferry.api.hypervisor.JobStats;
import io.ferry.api.migration.Cause;
import io.ferry.api.migration.MigrationProgress;
import io.ferry.api.migration.MigrationStatus;
import io.ferry.api.migration.Phase;
import io.ferry.api.migration.ProgressListener;

/**
 * One migration in flight, out or in: what it is, where it stands, and how to stop it from
 * another thread (abort, timeout, agent stopping). Stopping closes its channel and relays and, while
 * libvirt's job runs on the source, aborts that job: every blocked step of the flow then fails
 * and the flow ends with the cause recorded here.
 */
final class Flight {

    private static final Logger LOG = Logger.getLogger(Flight.class.getName());

    /** Why a flight was stopped from outside its own thread. */
    record Stopped(Cause cause, String reason) {
    }

    final boolean out;
    final Instant started = Instant.now();
    private final long startNanos = System.nanoTime();
    private final ProgressListener listener;
    private final AtomicReference<Stopped> stopped = new AtomicReference<>();

    volatile String id;
    volatile String vm;
    volatile String peer;
    volatile String user;
    volatile Phase phase;
    volatile MigrationProgress progress;
    volatile Channel channel;
    volatile Closeable transport;
    volatile TunnelGate.Session tunnels;
    volatile Hypervisor hypervisor;
    /** Set once libvirt's job has returned (either way): aborting it is pointless from then on. */
    volatile boolean transferEnded;
    volatile boolean transferStarted;

    Flight(boolean out, String id, String vm, String peer, String user, ProgressListener listener) {
        this.out = out;
        this.id = id;
        this.vm = vm;
        this.peer = peer;
        this.user = user;
        this.listener = listener == null ? ProgressListener.NONE : listener;
        this.phase = out ? Phase.POLICY : Phase.ATTESTATION;
        this.progress = MigrationProgress.of(id, vm, phase, 0, "");
    }

    long elapsedMillis() {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }

    void phase(Phase p, String note) {
        phase = p;
        report(MigrationProgress.of(id, vm, p, elapsedMillis(), note));
    }

    void transfer(JobStats s) {
        report(new MigrationProgress(id, vm, Phase.TRANSFER, s.percent(), s.memoryBytesPerSecond(), s.dataRemaining(),
                s.dirtyPagesPerSecond(), elapsedMillis(), ""));
    }

    private void report(MigrationProgress p) {
        progress = p;
        try {
            listener.progress(p);
        } catch (RuntimeException e) {
            LOG.log(Level.FINE, "progress listener failed", e);
        }
    }

    Stopped stopped() {
        return stopped.get();
    }

    /**
     * Stops the flight from any thread; the first stop wins. Returns whether this call stopped it.
     */
    boolean stop(Cause cause, String reason) {
        if (!stopped.compareAndSet(null, new Stopped(cause, reason))) {
            return false;
        }
        LOG.info("migration " + id + " of " + vm + " stopping: " + reason);
        Hypervisor h = hypervisor;
        if (out && h != null && transferStarted && !transferEnded) {
            try {
                h.abortJob(vm);
            } catch (RuntimeException e) {
                LOG.log(Level.FINE, "abort of the libvirt job failed", e);
            }
        }
        closeConnections();
        return true;
    }

    void closeConnections() {
        closeQuietly(transport);
        TunnelGate.Session t = tunnels;
        if (t != null) {
            t.close();
        }
        closeQuietly(channel);
    }

    MigrationStatus status() {
        return new MigrationStatus(id, out ? "out" : "in", vm, peer, user, started, progress);
    }

    static void closeQuietly(Closeable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (IOException | RuntimeException ignored) {
            // closed already
        }
    }
}
