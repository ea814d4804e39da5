package io.ferry.itests.checkpoint;

import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.itcenter.ItCenterException.Reason;
import io.ferry.api.itcenter.ItCenterLink;

/**
 * The IT center's lease rules (io.ferry.itcenter.lease.LeaseService) in memory, behind the
 * ItCenterLink each agent would use: acquire, renew, take over after expiry, with epochs. Its
 * reachability can be switched off, as a cut link to the IT center.
 */
final class TestWitness {

    private record Lease(String holder, long epoch, long expiresAtMillis) {
    }

    private static final Pattern NUMBER = Pattern.compile("\"(epoch|ttlSeconds)\"\\s*:\\s*(\\d+)");
    private final Map<String, Lease> leases = new HashMap<>();
    /** Agents cut off from the witness. */
    final java.util.Set<String> unreachable = java.util.concurrent.ConcurrentHashMap.newKeySet();

    ItCenterLink as(String agent) {
        return new ItCenterLink() {
            @Override
            public URI uri() {
                return URI.create("https://witness.test/");
            }

            @Override
            public boolean enrolled() {
                return true;
            }

            @Override
            public String call(String method, String path, String json, Duration timeout) {
                if (unreachable.contains(agent)) {
                    throw new ItCenterException(Reason.UNAVAILABLE, "witness unreachable");
                }
                return handle(agent, method, path, json);
            }
        };
    }

    synchronized long epoch(String vm) {
        return leases.get(vm).epoch();
    }

    private synchronized String handle(String agent, String method, String path, String json) {
        if (path.equals("audit")) {
            return "{}";
        }
        String[] parts = path.split("/");
        String vm = parts[1];
        Map<String, Long> body = new HashMap<>();
        if (json != null) {
            Matcher m = NUMBER.matcher(json);
            while (m.find()) {
                body.put(m.group(1), Long.parseLong(m.group(2)));
            }
        }
        long now = System.currentTimeMillis();
        long ttl = body.getOrDefault("ttlSeconds", 30L) * 1000;
        Lease l = leases.get(vm);
        String op = parts.length > 2 ? parts[2] : method;
        switch (op) {
            case "GET" -> {
                if (l == null) {
                    throw new ItCenterException(Reason.NOT_FOUND, "no lease of " + vm);
                }
            }
            case "acquire" -> {
                if (l == null) {
                    l = new Lease(agent, 1, now + ttl);
                } else if (agent.equals(l.holder())) {
                    l = new Lease(agent, l.epoch(), now + ttl);
                } else {
                    throw new ItCenterException(Reason.CONFLICT, "held by " + l.holder());
                }
            }
            case "renew" -> {
                if (l == null || !agent.equals(l.holder()) || l.epoch() != body.get("epoch")) {
                    throw new ItCenterException(Reason.CONFLICT, "lease of " + vm + " moved");
                }
                l = new Lease(agent, l.epoch(), now + ttl);
            }
            case "transfer" -> {
                if (l == null || l.epoch() != body.get("epoch") || (!agent.equals(l.holder()) && l.expiresAtMillis() > now)) {
                    throw new ItCenterException(Reason.CONFLICT, "lease of " + vm + " not transferable");
                }
                l = new Lease(agent, l.epoch() + 1, now + ttl);
            }
            default -> throw new ItCenterException(Reason.INVALID, path);
        }
        leases.put(vm, l);
        return "{\"vm\":\"" + vm + "\",\"holder\":\"" + l.holder() + "\",\"epoch\":" + l.epoch() + ",\"expired\":"
                + (l.expiresAtMillis() <= now) + "}";
    }
}
