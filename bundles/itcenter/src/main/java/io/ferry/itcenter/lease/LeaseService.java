package io.ferry.itcenter.lease;

import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import io.ferry.api.itcenter.AuditEntry;
import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.itcenter.ItCenterException.Reason;
import io.ferry.itcenter.internal.Store;

/**
 * The IT center as witness: which agent may run a VM. A lease has a holder, an epoch that grows
 * by one every time it changes hands, and an expiry the holder pushes forward by renewing. It
 * changes hands only by compare-and-set on its epoch: the holder hands it over, or another agent
 * takes it over once it expired. Every grant, hand-over and refusal is in the audit log
 * ({@code lease.*}) in the same transaction.
 */
@Component(service = LeaseService.class)
public final class LeaseService {

    /** Shortest and longest time a lease may be granted for. */
    static final Duration MIN_TTL = Duration.ofSeconds(2);
    static final Duration MAX_TTL = Duration.ofMinutes(10);

    private final Store store;
    private final Clock clock;

    @Activate
    public LeaseService(@Reference Store store) {
        this(store, Clock.systemUTC());
    }

    LeaseService(Store store, Clock clock) {
        this.store = store;
        this.clock = clock;
    }

    /** What a step did: a lease and the audit kind of its change (null: none worth one), or a refusal. */
    private record Outcome(Lease lease, String auditKind, String refusal) {

        static Outcome refused(Lease current, String why) {
            return new Outcome(current, null, why);
        }
    }

    /** The VM's lease, if it ever had one. */
    public Optional<Lease> get(String vm) {
        checkVm(vm);
        Instant now = clock.instant();
        return store.transaction(t -> new LeaseTable(t.connection()).lockAndRead(vm, now));
    }

    /**
     * Takes a VM's lease: a new one at epoch 1, a released one at the next epoch, or the caller's
     * own (a renewal at the same epoch). Held by another agent, expired or not, it is refused:
     * taking an expired lease over is {@link #transfer} with the epoch the caller saw.
     */
    public Lease acquire(String agent, String vm, Duration ttl) {
        checkVm(vm);
        Duration t = checkTtl(ttl);
        return run(agent, vm, (table, now) -> {
            Optional<Lease> current = table.lockAndRead(vm, now);
            if (current.isEmpty()) {
                try {
                    table.insert(vm, agent, now.plus(t), now);
                } catch (SQLException e) {
                    if (e.getSQLState() != null && e.getSQLState().startsWith("23")) {
                        throw new LeaseRefusedException("lease of " + vm + " was taken meanwhile", null);
                    }
                    throw e;
                }
                return new Outcome(new Lease(vm, agent, 1, now.plus(t), false), "lease.acquired", null);
            }
            Lease l = current.get();
            if (l.holder() == null || agent.equals(l.holder())) {
                long epoch = l.holder() == null ? l.epoch() + 1 : l.epoch();
                return change(table, l, agent, epoch, now, t, l.holder() == null ? "lease.acquired" : null);
            }
            return Outcome.refused(l, "lease of " + vm + " is held by " + l.holder() + " at epoch " + l.epoch()
                    + (l.expired() ? " (expired: take it over with transfer at that epoch)" : " until " + l.expiresAt()));
        });
    }

    /** Extends the caller's lease at {@code epoch}; refused when the lease moved on (the caller is fenced). */
    public Lease renew(String agent, String vm, long epoch, Duration ttl) {
        checkVm(vm);
        Duration t = checkTtl(ttl);
        return run(agent, vm, (table, now) -> {
            Optional<Lease> current = table.lockAndRead(vm, now);
            if (current.isEmpty()) {
                return Outcome.refused(null, "no lease of " + vm);
            }
            Lease l = current.get();
            if (!agent.equals(l.holder()) || l.epoch() != epoch) {
                return Outcome.refused(l, "lease of " + vm + " moved: held by " + l.holder() + " at epoch " + l.epoch()
                        + ", not by " + agent + " at epoch " + epoch);
            }
            return change(table, l, agent, epoch, now, t, null);
        });
    }

    /**
     * Moves the lease at {@code epoch} to {@code to} at epoch + 1: the holder hands it to anyone, or
     * {@code to} itself (the caller) takes it over once it expired. A released lease is taken over by
     * nobody (its protection ended; {@link #acquire} starts a new one). Anything else is refused.
     */
    public Lease transfer(String agent, String vm, long epoch, String to, Duration ttl) {
        checkVm(vm);
        Duration t = checkTtl(ttl);
        String target = to == null || to.isBlank() ? agent : to;
        return run(agent, vm, (table, now) -> {
            Optional<Lease> current = table.lockAndRead(vm, now);
            if (current.isEmpty()) {
                return Outcome.refused(null, "no lease of " + vm);
            }
            Lease l = current.get();
            if (l.epoch() != epoch) {
                return Outcome.refused(l, "lease of " + vm + " is at epoch " + l.epoch() + ", not " + epoch);
            }
            if (l.holder() == null) {
                // released by its holder: the VM is no longer protected (checkpoint:disable); a backup that missed
                // the news must not resurrect an old checkpoint while the VM runs on unprotected
                return Outcome.refused(l, "lease of " + vm + " was released at epoch " + l.epoch()
                        + ": its protection ended, nothing to take over (acquire starts a new one)");
            }
            boolean handOver = agent.equals(l.holder());
            boolean takeOver = target.equals(agent) && l.expired();
            if (!handOver && !takeOver) {
                return Outcome.refused(l, "lease of " + vm + " is held by " + l.holder() + " until " + l.expiresAt()
                        + ": only its holder can hand it over before then");
            }
            return change(table, l, target, epoch + 1, now, t, "lease.transferred");
        });
    }

    /**
     * The holder gives the lease up (its VM is no longer protected); the epoch stays, so the next holder
     * gets a higher one through {@link #acquire}. A released lease cannot be taken over with {@link #transfer}.
     */
    public Lease release(String agent, String vm, long epoch) {
        checkVm(vm);
        return run(agent, vm, (table, now) -> {
            Optional<Lease> current = table.lockAndRead(vm, now);
            if (current.isEmpty() || !agent.equals(current.get().holder()) || current.get().epoch() != epoch) {
                return Outcome.refused(current.orElse(null), "lease of " + vm + " at epoch " + epoch + " is not held by "
                        + agent);
            }
            Lease l = current.get();
            if (!table.update(vm, epoch, null, epoch, now, now)) {
                return Outcome.refused(l, "lease of " + vm + " changed meanwhile");
            }
            Lease released = new Lease(vm, null, epoch, now, true);
            return new Outcome(released, "lease.released", null);
        });
    }

    @FunctionalInterface
    private interface Step {
        Outcome apply(LeaseTable table, Instant now) throws SQLException;
    }

    private Lease run(String agent, String vm, Step step) {
        if (agent == null || agent.isBlank()) {
            throw new ItCenterException(Reason.INVALID, "no agent");
        }
        Outcome o = store.transaction(t -> {
            Instant now = clock.instant();
            Outcome outcome = step.apply(new LeaseTable(t.connection()), now);
            if (outcome.refusal() != null) {
                t.appendAudit(new AuditEntry("lease.refused", agent, vm, "agent:" + agent, outcome.refusal()), now);
            } else if (outcome.auditKind() != null) {
                t.appendAudit(new AuditEntry(outcome.auditKind(), agent, vm, "agent:" + agent,
                        "holder " + outcome.lease().holder() + ", epoch " + outcome.lease().epoch()), now);
            }
            return outcome;
        });
        if (o.refusal() != null) {
            throw new LeaseRefusedException(o.refusal(), o.lease());
        }
        return o.lease();
    }


    private Outcome change(LeaseTable table, Lease l, String holder, long epoch, Instant now, Duration ttl,
            String auditKind) throws SQLException {
        Instant expires = now.plus(ttl);
        if (!table.update(l.vm(), l.epoch(), holder, epoch, expires, now)) {
            return Outcome.refused(l, "lease of " + l.vm() + " changed meanwhile");
        }
        return new Outcome(new Lease(l.vm(), holder, epoch, expires, false), auditKind, null);
    }

    private static void checkVm(String vm) {
        if (vm == null || !vm.matches("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")) {
            throw new ItCenterException(Reason.INVALID, "not a VM name: " + vm);
        }
    }

    private static Duration checkTtl(Duration ttl) {
        if (ttl == null || ttl.compareTo(MIN_TTL) < 0 || ttl.compareTo(MAX_TTL) > 0) {
            throw new ItCenterException(Reason.INVALID, "lease time must be between " + MIN_TTL.toSeconds() + " and "
                    + MAX_TTL.toSeconds() + " s: " + ttl);
        }
        return ttl;
    }
}
