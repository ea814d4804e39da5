package io.ferry.itests.checkpoint;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.itcenter.ItCenterException.Reason;
import io.ferry.api.itcenter.ItCenterLink;

/**
 * An in-JVM witness for agents of this JVM with the semantics of the IT center's {@code LeaseService} behind
 * {@code /api/v1/leases} (one table shared by every agent of a run; each agent's {@link #link} calls as that agent,
 * as the client certificate names it): acquire a new lease (epoch 1), a released one (epoch + 1) or one's own;
 * renew one's own at its epoch; transfer (the holder hands over, or the caller takes over an expired lease — never
 * a released one) to epoch + 1; release by the holder at its epoch. A refusal is a CONFLICT (409), an unknown lease
 * NOT_FOUND (404). {@code POST audit} is kept in {@link #audit()}. For the benchmark, where a distribution of the
 * IT center (CheckpointIT's ItCenterDistribution) would cost a distribution build and start for what it measures.
 */
final class LeaseWitness {

    private record Lease(String holder, long epoch, Instant expiresAt) {
        boolean expired(Instant now) {
            return holder == null || !now.isBefore(expiresAt);
        }
    }

    private static final Pattern EPOCH = Pattern.compile("\"epoch\"\\s*:\\s*(\\d+)");
    private static final Pattern TTL = Pattern.compile("\"ttlSeconds\"\\s*:\\s*(\\d+)");
    private static final Pattern TO = Pattern.compile("\"to\"\\s*:\\s*\"([^\"]*)\"");
    private static final Pattern KIND = Pattern.compile("\"kind\"\\s*:\\s*\"([^\"]*)\"");

    private final Map<String, Lease> leases = new HashMap<>();
    private final List<String> audit = new ArrayList<>();

    /** The link of agent {@code agent}: every call is made as that agent. */
    ItCenterLink link(String agent) {
        return new ItCenterLink() {
            @Override
            public URI uri() {
                return URI.create("https://witness.bench/");
            }

            @Override
            public boolean enrolled() {
                return true;
            }

            @Override
            public String call(String method, String path, String json, Duration timeout) {
                return LeaseWitness.this.call(agent, method, path, json);
            }
        };
    }

    /** Holder and epoch of the VM's lease ("holder@epoch", holder null when released), or null if it never had one. */
    synchronized String holder(String vm) {
        Lease l = leases.get(vm);
        return l == null ? null : l.holder() + "@" + l.epoch();
    }

    /** Whether the VM's lease has expired (or was released); false when it never had one. */
    synchronized boolean expired(String vm) {
        Lease l = leases.get(vm);
        return l != null && l.expired(Instant.now());
    }

    /** The audit kinds agents posted, in order, as "agent kind". */
    synchronized List<String> audit() {
        return List.copyOf(audit);
    }

    private synchronized String call(String agent, String method, String path, String body) {
        Instant now = Instant.now();
        if (method.equals("POST") && path.equals("audit")) {
            audit.add(agent + " " + find(KIND, body, "?"));
            return "{}";
        }
        if (!path.startsWith("leases/")) {
            throw new ItCenterException(Reason.NOT_FOUND, "no such resource: " + path);
        }
        String rest = path.substring("leases/".length());
        String query = null;
        int q = rest.indexOf('?');
        if (q >= 0) {
            query = rest.substring(q + 1);
            rest = rest.substring(0, q);
        }
        String[] parts = rest.split("/");
        String vm = parts[0];
        if (!vm.matches("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")) {
            throw new ItCenterException(Reason.INVALID, "not a VM name: " + vm);
        }
        String op = parts.length > 1 ? parts[1] : "";
        Lease l = leases.get(vm);
        switch (method + " " + op) {
            case "GET " -> {
                if (l == null) {
                    throw new ItCenterException(Reason.NOT_FOUND, "no lease of " + vm);
                }
                return json(vm, l, now);
            }
            case "POST acquire" -> {
                Duration ttl = ttl(body);
                if (l == null) {
                    return put(vm, new Lease(agent, 1, now.plus(ttl)), now);
                }
                if (l.holder() == null || agent.equals(l.holder())) {
                    return put(vm, new Lease(agent, l.holder() == null ? l.epoch() + 1 : l.epoch(), now.plus(ttl)), now);
                }
                throw refused("lease of " + vm + " is held by " + l.holder() + " at epoch " + l.epoch()
                        + (l.expired(now) ? " (expired: take it over with transfer at that epoch)"
                                : " until " + l.expiresAt()));
            }
            case "POST renew" -> {
                Duration ttl = ttl(body);
                long epoch = epoch(find(EPOCH, body, null));
                if (l == null) {
                    throw refused("no lease of " + vm);
                }
                if (!agent.equals(l.holder()) || l.epoch() != epoch) {
                    throw refused("lease of " + vm + " moved: held by " + l.holder() + " at epoch " + l.epoch()
                            + ", not by " + agent + " at epoch " + epoch);
                }
                return put(vm, new Lease(agent, epoch, now.plus(ttl)), now);
            }
            case "POST transfer" -> {
                Duration ttl = ttl(body);
                long epoch = epoch(find(EPOCH, body, null));
                String to = find(TO, body, "");
                String target = to.isBlank() ? agent : to;
                if (l == null) {
                    throw refused("no lease of " + vm);
                }
                if (l.epoch() != epoch) {
                    throw refused("lease of " + vm + " is at epoch " + l.epoch() + ", not " + epoch);
                }
                if (l.holder() == null) {
                    throw refused("lease of " + vm + " was released at epoch " + l.epoch()
                            + ": its protection ended, nothing to take over (acquire starts a new one)");
                }
                boolean handOver = agent.equals(l.holder());
                boolean takeOver = target.equals(agent) && l.expired(now);
                if (!handOver && !takeOver) {
                    throw refused("lease of " + vm + " is held by " + l.holder() + " until " + l.expiresAt()
                            + ": only its holder can hand it over before then");
                }
                return put(vm, new Lease(target, epoch + 1, now.plus(ttl)), now);
            }
            case "DELETE " -> {
                long epoch = epoch(query != null && query.startsWith("epoch=") ? query.substring(6) : null);
                if (l == null || !agent.equals(l.holder()) || l.epoch() != epoch) {
                    throw refused("lease of " + vm + " at epoch " + epoch + " is not held by " + agent);
                }
                return put(vm, new Lease(null, epoch, now), now);
            }
            default -> throw new ItCenterException(Reason.NOT_FOUND, "no such resource: " + method + " " + path);
        }
    }

    private String put(String vm, Lease l, Instant now) {
        leases.put(vm, l);
        return json(vm, l, now);
    }

    private static String json(String vm, Lease l, Instant now) {
        return "{\"vm\":\"" + vm + "\",\"holder\":" + (l.holder() == null ? "null" : "\"" + l.holder() + "\"")
                + ",\"epoch\":" + l.epoch() + ",\"expiresAt\":\"" + l.expiresAt() + "\",\"expired\":" + l.expired(now)
                + "}";
    }

    private static ItCenterException refused(String why) {
        return new ItCenterException(Reason.CONFLICT, why);
    }

    private static Duration ttl(String body) {
        String s = find(TTL, body, null);
        if (s == null) {
            throw new ItCenterException(Reason.INVALID, "no ttlSeconds");
        }
        long t = Long.parseLong(s);
        if (t < 2 || t > 600) {
            throw new ItCenterException(Reason.INVALID, "lease time must be between 2 and 600 s: " + t);
        }
        return Duration.ofSeconds(t);
    }

    private static long epoch(String s) {
        if (s == null || !s.matches("\\d+")) {
            throw new ItCenterException(Reason.INVALID, "no epoch");
        }
        return Long.parseLong(s);
    }

    private static String find(Pattern p, String body, String otherwise) {
        if (body == null) {
            return otherwise;
        }
        Matcher m = p.matcher(body);
        return m.find() ? m.group(1) : otherwise;
    }
}
