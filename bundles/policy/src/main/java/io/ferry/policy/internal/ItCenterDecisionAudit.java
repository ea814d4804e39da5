package io.ferry.policy.internal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.nimbusds.jose.util.JSONObjectUtils;

import io.ferry.api.itcenter.AccessDeniedException;
import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.itcenter.ItCenterLink;
import io.ferry.api.policy.Decision;
import io.ferry.api.policy.DecisionAudit;
import io.ferry.api.policy.DecisionRequest;
import io.ferry.api.policy.Device;
import io.ferry.api.policy.SignedPolicy;

/**
 * Sends every policy decision to the IT center's audit log ({@code POST /api/v1/audit}, kind
 * {@code policy.decision}) through the agent's {@link ItCenterLink}. The decision is never held up:
 * {@link #decided} only puts the event into a bounded queue, and one sender thread sends the events
 * in order. While the IT center cannot be reached (or refuses this agent's certificate, which a
 * renewal may mend) the sender retries the oldest event with growing pauses; an event the IT center
 * refuses as invalid is not retried. Nothing is lost silently: an event that finds the queue full,
 * one refused, and those still waiting at shutdown are counted and logged (with their content).
 * <p>
 * Registered only while an ItCenterLink exists (a mandatory reference); the link is dynamic, so an
 * update of the link's bundle does not empty the queue.
 */
@Component(service = DecisionAudit.class, configurationPid = "io.ferry.policy.audit")
@Designate(ocd = DecisionAuditConfig.class)
public final class ItCenterDecisionAudit implements DecisionAudit {

    /** Counters since activation. */
    public record Stats(long queued, long sent, long dropped, long refused, int waiting) {
    }

    static final String KIND = "policy.decision";
    private static final Logger LOG = LoggerFactory.getLogger(ItCenterDecisionAudit.class);
    private static final int MAX_DETAIL = 4000;
    private static final int MAX_VM = 128;

    private final BlockingQueue<String> queue;
    private final Supplier<ItCenterLink> links;
    private final long firstPauseMillis;
    private final long maxPauseMillis;
    private final Duration timeout;
    private final Thread sender;
    private final AtomicLong queued = new AtomicLong();
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private volatile boolean running = true;
    /** The event being sent (taken from the queue), or null. */
    private volatile String inFlight;

    @Reference(policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    volatile ItCenterLink link;

    @Activate
    public ItCenterDecisionAudit(DecisionAuditConfig config) {
        this(config.queue_capacity(), 500, config.retry_max_seconds() * 1000L,
                Duration.ofSeconds(config.request_timeout_seconds()), null);
    }

    /** For tests: a fixed link, and pauses in milliseconds. */
    ItCenterDecisionAudit(int capacity, long firstPauseMillis, long maxPauseMillis, Duration timeout,
            ItCenterLink fixed) {
        if (capacity < 1) {
            throw new IllegalArgumentException("queue.capacity must be at least 1, not " + capacity);
        }
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.links = fixed != null ? () -> fixed : () -> link;
        this.firstPauseMillis = Math.max(1, firstPauseMillis);
        this.maxPauseMillis = Math.max(this.firstPauseMillis, maxPauseMillis);
        this.timeout = timeout;
        this.sender = new Thread(this::send, "ferry-policy-audit");
        sender.setDaemon(true);
        sender.start();
    }

    @Override
    public void decided(DecisionRequest request, Decision decision, SignedPolicy policy) {
        String event = event(request, decision, policy);
        if (queue.offer(event)) {
            queued.incrementAndGet();
            return;
        }
        long n = dropped.incrementAndGet();
        if (n == 1 || Long.bitCount(n) == 1 || n % 1000 == 0) {
            LOG.warn("The queue of decisions for the IT center's audit log is full ({} waiting, the IT center is "
                    + "slow or unreachable): {} decision(s) not sent so far; this one: {}", queue.size(), n, event);
        } else {
            LOG.debug("Decision not sent to the IT center (queue full): {}", event);
        }
    }

    public Stats stats() {
        String f = inFlight;
        return new Stats(queued.get(), sent.get(), dropped.get(), refused.get(), queue.size() + (f == null ? 0 : 1));
    }

    @Deactivate
    void close() {
        running = false;
        sender.interrupt();
        try {
            sender.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        List<String> left = new ArrayList<>();
        String f = inFlight;
        if (f != null) {
            left.add(f);
        }
        queue.drainTo(left);
        if (!left.isEmpty()) {
            dropped.addAndGet(left.size());
            LOG.warn("{} decision(s) not sent to the IT center's audit log before this component stopped; they are:",
                    left.size());
            left.forEach(e -> LOG.warn("  unsent: {}", e));
        }
    }

    private void send() {
        long pause = firstPauseMillis;
        while (running) {
            String event;
            try {
                event = queue.poll(1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                return;
            }
            if (event == null) {
                continue;
            }
            inFlight = event;
            boolean done = false;
            while (running && !done) {
                ItCenterLink l = links.get();
                try {
                    if (l == null) {
                        throw new ItCenterException(ItCenterException.Reason.UNAVAILABLE, "no IT center link");
                    }
                    l.call("POST", "audit", event, timeout);
                    sent.incrementAndGet();
                    pause = firstPauseMillis;
                    done = true;
                } catch (ItCenterException e) {
                    if (e.reason() != ItCenterException.Reason.UNAVAILABLE) {
                        refused.incrementAndGet();
                        LOG.warn("The IT center refused a decision for its audit log ({}); not sent again: {}",
                                e.getMessage(), event);
                        done = true;
                    } else {
                        pause = retry(pause, e.getMessage());
                    }
                } catch (AccessDeniedException e) {
                    pause = retry(pause, "this agent's certificate was refused: " + e.getMessage());
                } catch (RuntimeException e) {
                    pause = retry(pause, e.toString());
                }
            }
            if (done) {
                inFlight = null;
            }
        }
    }

    /** Waits before the next attempt; returns the next pause. */
    private long retry(long pause, String why) {
        if (pause == firstPauseMillis) {
            LOG.warn("Cannot send decisions to the IT center's audit log ({}); {} waiting, retrying", why,
                    queue.size() + 1);
        }
        try {
            Thread.sleep(pause);
        } catch (InterruptedException e) {
            running = false;
        }
        return Math.min(pause * 2, maxPauseMillis);
    }

    /** The audit event: {"kind":"policy.decision","vm":...,"detail":...}. */
    static String event(DecisionRequest request, Decision decision, SignedPolicy policy) {
        String vm = policy != null ? policy.policy().vm().uuid() : request.vm();
        StringBuilder d = new StringBuilder();
        d.append(decision.effect()).append(decision.rule() != null ? " by rule '" + decision.rule() + "'" : " by no rule");
        if (policy != null) {
            d.append(", policy version ").append(policy.policy().version()).append(" of VM '")
                    .append(policy.policy().vm().name()).append("'");
        }
        d.append("; user=").append(request.user()).append(" direction=").append(request.direction().word())
                .append(" target=").append(device(request.target()));
        if (request.source() != null) {
            d.append(" source=").append(device(request.source()));
        }
        d.append(" at=").append(request.time()).append("; ").append(decision.reason());
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("kind", KIND);
        json.put("vm", clip(vm.isEmpty() ? "-" : vm, MAX_VM));
        json.put("detail", clip(d.toString(), MAX_DETAIL));
        return JSONObjectUtils.toJSONString(json);
    }

    private static String device(Device d) {
        return d.name() + "(" + (d.level() == null ? "unknown level" : d.level())
                + (d.groups().isEmpty() ? "" : " groups " + String.join(",", new java.util.TreeSet<>(d.groups())))
                + ")";
    }

    private static String clip(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max - 3) + "...";
    }
}
