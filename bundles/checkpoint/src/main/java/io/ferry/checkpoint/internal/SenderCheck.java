package io.ferry.checkpoint.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.BooleanSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Pattern;

import io.ferry.api.checkpoint.CheckpointException;
import io.ferry.api.checkpoint.CheckpointException.Reason;

/**
 * The backup's check of who may speak for a VM on the checkpoint purpose. A {@code KEY},
 * {@code CHECKPOINT}, {@code HEARTBEAT} or {@code DISABLE} for a VM is accepted only from the channel's
 * authenticated peer when it is (1) the primary this backup first paired with for that VM (recorded at
 * its first accepted {@code KEY}, under {@code <dir>/<vm>.properties}, with the latest epoch a KEY was
 * accepted at) and (2) the holder of the VM's lease at the IT center at exactly the epoch it claims — for
 * a {@code DISABLE} also a lease released at that epoch (the primary releases it first). A refusal
 * changes nothing here, is logged and audited at the IT center ({@code checkpoint.refused}, at most once
 * a minute per kind, VM and peer).
 *
 * <p>IT center unreachable: the paired primary is still accepted for {@code CHECKPOINT} and
 * {@code HEARTBEAT} (at an epoch not older than the last one verified), so an outage does not turn
 * into a failover; a first pairing then needs {@code itcenter.unreachable = availability}.
 */
final class SenderCheck {

    static final String KEY = "KEY";
    static final String CHECKPOINT = "CHECKPOINT";
    static final String HEARTBEAT = "HEARTBEAT";
    static final String DISABLE = "DISABLE";

    private static final Logger LOG = Logger.getLogger(SenderCheck.class.getName());
    private static final Pattern VM = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");
    private static final Duration AUDIT_EVERY = Duration.ofMinutes(1);

    record Pairing(String primary, long epoch) {
    }

    private record Seen(LeaseClient.Lease lease, Instant at) {
    }

    private final Path dir;
    private final LeaseClient leases;
    private final BooleanSupplier availabilityFirst;
    private final Executor auditor;
    private final Clock clock;
    private final Duration heartbeatLeaseCache;
    private final Map<String, Pairing> pairings = new ConcurrentHashMap<>();
    private final Map<String, Long> verifiedEpochs = new ConcurrentHashMap<>();
    private final Map<String, Seen> leaseCache = new ConcurrentHashMap<>();
    private final Map<String, Instant> audited = new ConcurrentHashMap<>();

    SenderCheck(Path dir, LeaseClient leases, BooleanSupplier availabilityFirst, Executor auditor, Clock clock,
            Duration heartbeatLeaseCache) {
        this.dir = dir;
        this.leases = leases;
        this.availabilityFirst = availabilityFirst;
        this.auditor = auditor;
        this.clock = clock;
        this.heartbeatLeaseCache = heartbeatLeaseCache;
    }

    /** The primary this backup paired with for the VM, or null. */
    String pairedPrimary(String vm) {
        Pairing p = pairing(vm);
        return p == null ? null : p.primary();
    }

    /** The latest lease epoch a KEY of the paired primary was accepted at, or -1 when none is paired. */
    long pairedEpoch(String vm) {
        Pairing p = pairing(vm);
        return p == null ? -1 : p.epoch();
    }

    /** Forgets the VM's pairing (its protection ended): only a KEY from its lease holder pairs it again. */
    void unpair(String vm) {
        if (vm == null || !VM.matcher(vm).matches()) {
            return;
        }
        pairings.remove(vm);
        verifiedEpochs.remove(vm);
        leaseCache.remove(vm);
        try {
            Files.deleteIfExists(dir.resolve(vm + ".properties"));
        } catch (IOException e) {
            LOG.warning("cannot remove the pairing of " + vm + ": " + e.getMessage());
        }
    }

    /**
     * Returns normally when {@code peer} may send {@code kind} for {@code vm} at lease {@code epoch};
     * throws REJECTED otherwise (logged and audited). An accepted first {@code KEY} records the pairing.
     */
    void authorize(String kind, String vm, String peer, long epoch) {
        Pairing paired = requirePaired(kind, vm, peer);
        LeaseClient.Lease lease;
        try {
            lease = lease(vm, HEARTBEAT.equals(kind));
        } catch (CheckpointException e) {
            if (e.reason() != Reason.UNAVAILABLE) {
                throw refuse(kind, vm, peer, "its lease cannot be checked: " + e.getMessage());
            }
            long verified = verifiedEpochs.getOrDefault(vm, paired == null ? 0 : paired.epoch());
            if (paired != null && !KEY.equals(kind) && epoch >= verified) {
                LOG.fine(kind + " of " + vm + " from its paired primary " + peer + " accepted unverified: "
                        + e.getMessage());
                return;
            }
            if (KEY.equals(kind) && availabilityFirst.getAsBoolean() && epoch >= verified) {
                LOG.warning("KEY of " + vm + " from " + peer + " accepted without the IT center (availability mode): "
                        + e.getMessage());
                pair(vm, peer, epoch, paired);
                return;
            }
            throw refuse(kind, vm, peer, "its lease cannot be checked: " + e.getMessage());
        }
        boolean releasedAtThatEpoch = DISABLE.equals(kind) && lease.holder() == null && lease.epoch() == epoch;
        if (!releasedAtThatEpoch && (!peer.equals(lease.holder()) || lease.epoch() != epoch)) {
            throw refuse(kind, vm, peer, "the lease of " + vm + " is held by " + lease.holder() + " at epoch "
                    + lease.epoch() + ", not by " + peer + " at epoch " + epoch);
        }
        verifiedEpochs.merge(vm, epoch, Math::max);
        if (KEY.equals(kind)) {
            pair(vm, peer, epoch, paired);
        }
    }

    /**
     * The pairing part of {@link #authorize} alone (no IT center asked): refuses a peer that is not the
     * VM's paired primary, and anything but a KEY while none is paired. Returns the pairing or null.
     */
    Pairing requirePaired(String kind, String vm, String peer) {
        if (vm == null || !VM.matcher(vm).matches()) {
            throw refuse(kind, String.valueOf(vm), peer, "not a VM name");
        }
        if (peer == null || peer.isBlank()) {
            throw refuse(kind, vm, peer, "the channel has no authenticated agent");
        }
        Pairing paired = pairing(vm);
        if (paired != null && !paired.primary().equals(peer)) {
            throw refuse(kind, vm, peer, "this backup is paired with " + paired.primary() + " for " + vm);
        }
        if (paired == null && !KEY.equals(kind)) {
            throw refuse(kind, vm, peer, "no primary is paired with this backup for " + vm);
        }
        return paired;
    }

    private LeaseClient.Lease lease(String vm, boolean cached) {
        Instant now = clock.instant();
        Seen s = leaseCache.get(vm);
        if (cached && s != null && Duration.between(s.at(), now).compareTo(heartbeatLeaseCache) < 0) {
            return s.lease();
        }
        LeaseClient.Lease l;
        try {
            l = leases.get(vm);
        } catch (CheckpointException e) {
            if (e.reason() == Reason.NOT_FOUND) {
                l = new LeaseClient.Lease(vm, null, -1, true);
            } else {
                throw e;
            }
        }
        leaseCache.put(vm, new Seen(l, now));
        return l;
    }

    private CheckpointException refuse(String kind, String vm, String peer, String why) {
        String message = kind + " for " + vm + " from " + peer + " refused: " + why;
        Instant now = clock.instant();
        String key = kind + "|" + vm + "|" + peer;
        Instant last = audited.get(key);
        if (last == null || Duration.between(last, now).compareTo(AUDIT_EVERY) >= 0) {
            audited.put(key, now);
            LOG.warning(message);
            try {
                auditor.execute(() -> leases.audit("checkpoint.refused", vm, message));
            } catch (RuntimeException e) {
                LOG.fine("cannot audit: " + e.getMessage());
            }
        } else {
            LOG.fine(message);
        }
        return new CheckpointException(Reason.REJECTED, message);
    }

    // --- pairings

    private Pairing pairing(String vm) {
        Pairing p = pairings.get(vm);
        if (p != null) {
            return p;
        }
        Path f = dir.resolve(vm + ".properties");
        if (!Files.exists(f)) {
            return null;
        }
        Properties props = new Properties();
        try (InputStream in = Files.newInputStream(f)) {
            props.load(in);
            p = new Pairing(props.getProperty("primary"), Long.parseLong(props.getProperty("epoch", "0")));
        } catch (IOException | RuntimeException e) {
            // unreadable: nobody is paired rather than anybody; the first KEY verified by the lease pairs again
            LOG.log(Level.WARNING, "cannot read the pairing of " + vm + ": " + e.getMessage(), e);
            return null;
        }
        if (p.primary() == null) {
            return null;
        }
        pairings.put(vm, p);
        return p;
    }

    private void pair(String vm, String peer, long epoch, Pairing existing) {
        if (existing != null && existing.epoch() >= epoch) {
            return;
        }
        Properties props = new Properties();
        props.setProperty("vm", vm);
        props.setProperty("primary", peer);
        props.setProperty("epoch", Long.toString(epoch));
        props.setProperty("pairedAt", clock.instant().toString());
        try {
            Files.createDirectories(dir);
            Path f = dir.resolve(vm + ".properties");
            Path tmp = dir.resolve(vm + ".properties.tmp");
            try (OutputStream out = Files.newOutputStream(tmp)) {
                props.store(out, "Ferry checkpoints: the primary this backup accepts for " + vm);
            }
            BackupStore.fsync(tmp);
            Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new CheckpointException(Reason.UNAVAILABLE, "cannot record the pairing of " + vm + ": "
                    + e.getMessage(), e);
        }
        pairings.put(vm, new Pairing(peer, epoch));
        if (existing == null) {
            LOG.info("paired with " + peer + " as the primary of " + vm + " (lease epoch " + epoch + ")");
        }
    }
}
