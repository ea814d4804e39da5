package io.ferry.itcenter.lease;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Method;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.ferry.api.itcenter.ItCenterException;
import io.ferry.itcenter.internal.Store;

class LeaseServiceTest {

    private static final Duration TTL = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private Store store;
    private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-01-01T00:00:00Z"));
    private LeaseService leases;

    @BeforeEach
    void open() throws Exception {
        Method open = Store.class.getDeclaredMethod("open", String.class, String.class, String.class);
        open.setAccessible(true);
        store = (Store) open.invoke(null, "jdbc:h2:file:" + dir.resolve("db").toAbsolutePath(), "sa", "");
        leases = new LeaseService(store, new Clock() {
            @Override
            public Instant instant() {
                return now.get();
            }

            @Override
            public java.time.ZoneId getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(java.time.ZoneId zone) {
                return this;
            }
        });
    }

    @AfterEach
    void close() {
        store.close();
    }

    private void advance(Duration d) {
        now.set(now.get().plus(d));
    }

    @Test
    void firstAcquireGetsEpochOneAndTheHolderRenews() {
        Lease l = leases.acquire("a", "vm1", TTL);
        assertThat(l.holder()).isEqualTo("a");
        assertThat(l.epoch()).isEqualTo(1);
        advance(Duration.ofSeconds(5));
        Lease r = leases.renew("a", "vm1", 1, TTL);
        assertThat(r.expiresAt()).isEqualTo(now.get().plus(TTL));
        assertThat(leases.acquire("a", "vm1", TTL).epoch()).isEqualTo(1);
    }

    @Test
    void anotherAgentCannotAcquireOrTakeOverALiveLease() {
        leases.acquire("a", "vm1", TTL);
        assertThatThrownBy(() -> leases.acquire("b", "vm1", TTL)).isInstanceOf(LeaseRefusedException.class)
                .hasMessageContaining("held by a");
        assertThatThrownBy(() -> leases.transfer("b", "vm1", 1, null, TTL)).isInstanceOf(LeaseRefusedException.class);
        assertThat(leases.get("vm1").orElseThrow().holder()).isEqualTo("a");
    }

    @Test
    void anExpiredLeaseIsTakenOverOnceAtTheNextEpochAndTheOldHolderIsFenced() {
        leases.acquire("a", "vm1", TTL);
        advance(TTL.plusSeconds(1));
        assertThatThrownBy(() -> leases.acquire("b", "vm1", TTL)).isInstanceOf(LeaseRefusedException.class)
                .hasMessageContaining("expired");
        assertThatThrownBy(() -> leases.transfer("b", "vm1", 0, null, TTL)).isInstanceOf(LeaseRefusedException.class);
        Lease taken = leases.transfer("b", "vm1", 1, null, TTL);
        assertThat(taken.holder()).isEqualTo("b");
        assertThat(taken.epoch()).isEqualTo(2);
        // the old primary comes back: its renewal, acquire and a replayed takeover are all refused
        LeaseRefusedException refused = org.junit.jupiter.api.Assertions.assertThrows(LeaseRefusedException.class,
                () -> leases.renew("a", "vm1", 1, TTL));
        assertThat(refused.current().holder()).isEqualTo("b");
        assertThat(refused.current().epoch()).isEqualTo(2);
        assertThatThrownBy(() -> leases.acquire("a", "vm1", TTL)).isInstanceOf(LeaseRefusedException.class);
        assertThatThrownBy(() -> leases.transfer("a", "vm1", 1, null, TTL)).isInstanceOf(LeaseRefusedException.class);
        assertThat(leases.get("vm1").orElseThrow().holder()).isEqualTo("b");
    }

    @Test
    void theHolderHandsOverAndReleasesWithoutTheEpochGoingBack() {
        leases.acquire("a", "vm1", TTL);
        assertThat(leases.transfer("a", "vm1", 1, "b", TTL).epoch()).isEqualTo(2);
        assertThatThrownBy(() -> leases.release("a", "vm1", 2)).isInstanceOf(LeaseRefusedException.class);
        Lease released = leases.release("b", "vm1", 2);
        assertThat(released.holder()).isNull();
        Lease again = leases.acquire("a", "vm1", TTL);
        assertThat(again.epoch()).isEqualTo(3);
    }

    @Test
    void aReleasedLeaseIsTakenOverByNobodyButCanBeAcquiredAnew() {
        leases.acquire("primary", "vm1", TTL);
        leases.release("primary", "vm1", 1);
        // the backup that missed the end of the protection: no takeover, now or after the old expiry
        assertThatThrownBy(() -> leases.transfer("backup", "vm1", 1, null, TTL))
                .isInstanceOf(LeaseRefusedException.class).hasMessageContaining("released");
        advance(TTL.plusSeconds(1));
        LeaseRefusedException refused = org.junit.jupiter.api.Assertions.assertThrows(LeaseRefusedException.class,
                () -> leases.transfer("backup", "vm1", 1, null, TTL));
        assertThat(refused.current().holder()).isNull();
        assertThat(refused.current().epoch()).isEqualTo(1);
        assertThatThrownBy(() -> leases.transfer("primary", "vm1", 1, "backup", TTL))
                .isInstanceOf(LeaseRefusedException.class);
        assertThat(leases.get("vm1").orElseThrow().holder()).isNull();
        // protection enabled again: a new lease at the next epoch
        assertThat(leases.acquire("primary", "vm1", TTL).epoch()).isEqualTo(2);
    }

    @Test
    void badInputIsInvalid() {
        assertThatThrownBy(() -> leases.acquire("a", "../etc", TTL)).isInstanceOf(ItCenterException.class)
                .extracting(e -> ((ItCenterException) e).reason()).isEqualTo(ItCenterException.Reason.INVALID);
        assertThatThrownBy(() -> leases.acquire("a", "vm1", Duration.ofHours(1)))
                .isInstanceOf(ItCenterException.class).isNotInstanceOf(LeaseRefusedException.class);
        assertThatThrownBy(() -> leases.renew("a", "vm9", 1, TTL)).isInstanceOf(LeaseRefusedException.class);
    }

    @RepeatedTest(5)
    void concurrentAcquiresGrantExactlyOne() throws Exception {
        assertExactlyOneWins(agent -> leases.acquire(agent, "vm-race", TTL));
    }

    @RepeatedTest(5)
    void concurrentTakeoversOfAnExpiredLeaseGrantExactlyOne() throws Exception {
        leases.acquire("primary", "vm-race", TTL);
        advance(TTL.plusSeconds(1));
        Lease winner = assertExactlyOneWins(agent -> leases.transfer(agent, "vm-race", 1, null, TTL));
        assertThat(winner.epoch()).isEqualTo(2);
    }

    @FunctionalInterface
    interface Attempt {
        Lease run(String agent);
    }

    private Lease assertExactlyOneWins(Attempt attempt) throws Exception {
        int n = 8;
        ExecutorService pool = Executors.newFixedThreadPool(n);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Lease>> results = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String agent = "agent" + i;
            results.add(pool.submit((Callable<Lease>) () -> {
                go.await();
                try {
                    return attempt.run(agent);
                } catch (LeaseRefusedException e) {
                    return null;
                }
            }));
        }
        go.countDown();
        List<Lease> granted = new ArrayList<>();
        for (Future<Lease> f : results) {
            Lease l = f.get();
            if (l != null) {
                granted.add(l);
            }
        }
        pool.shutdown();
        assertThat(granted).hasSize(1);
        assertThat(leases.get("vm-race").orElseThrow().holder()).isEqualTo(granted.get(0).holder());
        return granted.get(0);
    }
}
