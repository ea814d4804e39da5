package io.ferry.policy.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import com.nimbusds.jose.util.JSONObjectUtils;

import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.policy.Decision;
import io.ferry.api.policy.DecisionRequest;
import io.ferry.api.policy.Device;
import io.ferry.api.policy.Direction;
import io.ferry.api.policy.SignedPolicy;
import io.ferry.seal.testing.MemorySealStorage;

/** Decisions to the IT center's audit log: in order, never blocking the decision, nothing lost silently. */
class ItCenterDecisionAuditTest {

    static final java.security.KeyPair KEY = Fixtures.p256();
    static final Instant NOW = Instant.parse("2026-03-15T10:00:00Z");

    final MemorySealStorage storage = new MemorySealStorage();
    final SealedPolicyService service = new SealedPolicyService(storage, Fixtures.LEVELS, KEY.getPublic());
    ItCenterDecisionAudit audit;

    @AfterEach
    void stop() {
        if (audit != null) {
            audit.close();
        }
    }

    static DecisionRequest request(String user, String target, String level) {
        return new DecisionRequest(Direction.OUT, Fixtures.UUID, user, null,
                new Device(target, Set.of("home"), level), NOW);
    }

    static Map<String, Object> json(String body) {
        try {
            return JSONObjectUtils.parse(body);
        } catch (ParseException e) {
            throw new AssertionError(body, e);
        }
    }

    static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("not within 10 s: " + what);
            }
            Thread.sleep(5);
        }
    }

    ItCenterDecisionAudit start(int capacity, FakeItCenterLink link) {
        audit = new ItCenterDecisionAudit(capacity, 5, 20, Duration.ofSeconds(1), link);
        service.audits = List.of(audit);
        service.importPolicy(new NimbusPolicySigner().sign(Fixtures.POLICY, Fixtures.LEVELS, KEY).jws());
        return audit;
    }

    @Test
    void everyDecisionIsPostedInOrderAsAPolicyDecisionEvent() throws Exception {
        FakeItCenterLink link = new FakeItCenterLink((m, p, j) -> "{}");
        start(100, link);
        Decision allow = service.decide(request("alice", "alice-laptop", "measured"));
        Decision deny = service.decide(request("mallory", "alice-laptop", "attested"));
        service.check(request("alice", "alice-laptop", "measured")); // a what-if: not reported
        await(() -> audit.stats().sent() == 2, "two sent");
        assertThat(link.calls).hasSize(2).allSatisfy(c -> {
            assertThat(c.method()).isEqualTo("POST");
            assertThat(c.path()).isEqualTo("audit");
        });
        Map<String, Object> first = json(link.calls.get(0).json());
        assertThat(first).containsOnlyKeys("kind", "vm", "detail");
        assertThat(first.get("kind")).isEqualTo("policy.decision");
        assertThat(first.get("vm")).isEqualTo(Fixtures.UUID);
        assertThat((String) first.get("detail")).startsWith("ALLOW by rule 'owner-own-devices', policy version 3 of VM "
                + "'alice-desktop'; user=alice direction=out target=alice-laptop(measured groups home) at="
                + NOW + "; " + allow.reason());
        assertThat((String) json(link.calls.get(1).json()).get("detail")).startsWith("DENY by no rule")
                .contains("user=mallory").endsWith(deny.reason());
        assertThat(audit.stats()).isEqualTo(new ItCenterDecisionAudit.Stats(2, 2, 0, 0, 0));
    }

    @Test
    void aDecisionWithoutPolicyIsReportedToo() throws Exception {
        FakeItCenterLink link = new FakeItCenterLink((m, p, j) -> "{}");
        start(10, link);
        service.decide(new DecisionRequest(Direction.OUT, "unknown-vm", "alice", null, Device.of("x", null), NOW));
        await(() -> audit.stats().sent() == 1, "sent");
        Map<String, Object> e = json(link.calls.get(0).json());
        assertThat(e.get("vm")).isEqualTo("unknown-vm");
        assertThat((String) e.get("detail")).startsWith("DENY by no rule; user=alice").contains("holds no policy");
    }

    @Test
    void aHangingItCenterDoesNotHoldTheDecisionUpAndAFullQueueIsCounted() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        FakeItCenterLink link = new FakeItCenterLink((m, p, j) -> {
            release.await();
            return "{}";
        });
        start(3, link);
        long start = System.nanoTime();
        assertThat(service.decide(request("alice", "alice-laptop", "measured")).allowed()).isTrue();
        long nanos = System.nanoTime() - start;
        // the sender has taken the first event before the others come (else it could find the queue full already)
        await(() -> link.calls.size() == 1, "the first one in flight");
        start = System.nanoTime();
        for (int i = 1; i < 10; i++) {
            assertThat(service.decide(request("alice", "alice-laptop", "measured")).allowed()).isTrue();
        }
        long millis = TimeUnit.NANOSECONDS.toMillis(nanos + System.nanoTime() - start);
        assertThat(millis).as("ten decisions with the IT center hanging").isLessThan(2_000);
        // one in flight, three queued, the other six dropped (counted)
        assertThat(audit.stats().dropped()).isEqualTo(6);
        assertThat(audit.stats().waiting()).isEqualTo(4);
        release.countDown();
        await(() -> audit.stats().sent() == 4, "the rest sent once the IT center answers");
        assertThat(audit.stats()).isEqualTo(new ItCenterDecisionAudit.Stats(4, 4, 6, 0, 0));
    }

    @Test
    void anUnreachableItCenterIsRetriedWithTheSameEvent() throws Exception {
        AtomicInteger failures = new AtomicInteger(3);
        FakeItCenterLink link = new FakeItCenterLink((m, p, j) -> {
            if (failures.getAndDecrement() > 0) {
                throw new ItCenterException(ItCenterException.Reason.UNAVAILABLE, "connection refused");
            }
            return "{}";
        });
        start(10, link);
        service.decide(request("alice", "alice-laptop", "measured"));
        service.decide(request("bob", "home-pc", "attested"));
        await(() -> audit.stats().sent() == 2, "both sent after the retries");
        assertThat(link.calls).hasSize(5);
        assertThat(link.calls.subList(0, 4)).extracting(FakeItCenterLink.Call::json).containsOnly(link.calls.get(0).json());
        assertThat((String) json(link.calls.get(4).json()).get("detail")).contains("user=bob");
    }

    @Test
    void anEventTheItCenterRefusesIsCountedAndNotRetried() throws Exception {
        FakeItCenterLink link = new FakeItCenterLink((m, p, j) -> {
            if (j.contains("mallory")) {
                throw new ItCenterException(ItCenterException.Reason.INVALID, "detail: at most 4000 characters");
            }
            return "{}";
        });
        start(10, link);
        service.decide(request("mallory", "alice-laptop", "measured"));
        service.decide(request("alice", "alice-laptop", "measured"));
        await(() -> audit.stats().sent() == 1 && audit.stats().refused() == 1, "one refused, one sent");
        assertThat(link.calls).hasSize(2);
    }

    @Test
    void unsentEventsAtShutdownAreCounted() throws Exception {
        FakeItCenterLink link = new FakeItCenterLink((m, p, j) -> {
            throw new ItCenterException(ItCenterException.Reason.UNAVAILABLE, "down");
        });
        start(10, link);
        for (int i = 0; i < 3; i++) {
            service.decide(request("alice", "alice-laptop", "measured"));
        }
        await(() -> !link.calls.isEmpty(), "a first attempt");
        audit.close();
        ItCenterDecisionAudit.Stats s = audit.stats();
        audit = null;
        assertThat(s.sent()).isZero();
        assertThat(s.dropped()).isEqualTo(3);
    }

    @Test
    void longFieldsAreClippedToWhatTheItCenterAccepts() throws Exception {
        String reason = "x".repeat(5000);
        String body = ItCenterDecisionAudit.event(new DecisionRequest(Direction.IN, "v".repeat(300), "alice",
                Device.of("src", "basic"), Device.of("dst", null), NOW), Decision.denyWithoutPolicy(reason),
                (SignedPolicy) null);
        Map<String, Object> e = json(body);
        assertThat((String) e.get("vm")).hasSize(128).endsWith("...");
        assertThat((String) e.get("detail")).hasSize(4000).contains("source=src(basic)", "target=dst(unknown level)");
    }
}
