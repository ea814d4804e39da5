package io.ferry.checkpoint.internal;

import java.time.Duration;
import java.util.function.Supplier;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.ferry.api.checkpoint.CheckpointException;
import io.ferry.api.checkpoint.CheckpointException.Reason;
import io.ferry.api.itcenter.AccessDeniedException;
import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.itcenter.ItCenterLink;

/**
 * The agent's side of the IT center's VM leases ({@code /api/v1/leases}), through the ItCenterLink.
 * A refusal (409) is FENCED; no link, no answer or a 5xx is UNAVAILABLE.
 */
final class LeaseClient {

    /** A lease as the IT center answered it. */
    record Lease(String vm, String holder, long epoch, boolean expired) {
    }

    private static final Duration TIMEOUT = Duration.ofSeconds(5);
    private final ObjectMapper json = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES,
            false);
    private final Supplier<ItCenterLink> link;

    LeaseClient(Supplier<ItCenterLink> link) {
        this.link = link;
    }

    Lease get(String vm) {
        return call("GET", "leases/" + vm, null);
    }

    Lease acquire(String vm, Duration ttl) {
        return call("POST", "leases/" + vm + "/acquire", "{\"ttlSeconds\":" + ttl.toSeconds() + "}");
    }

    Lease renew(String vm, long epoch, Duration ttl) {
        return call("POST", "leases/" + vm + "/renew", "{\"epoch\":" + epoch + ",\"ttlSeconds\":" + ttl.toSeconds() + "}");
    }

    /** Takes over the lease at {@code epoch} (granted only once it expired). */
    Lease takeOver(String vm, long epoch, Duration ttl) {
        return call("POST", "leases/" + vm + "/transfer",
                "{\"epoch\":" + epoch + ",\"ttlSeconds\":" + ttl.toSeconds() + "}");
    }

    /** Gives the lease at {@code epoch} up: the VM is no longer protected, nobody can take it over. */
    Lease release(String vm, long epoch) {
        return call("DELETE", "leases/" + vm + "?epoch=" + epoch, null);
    }

    void audit(String kind, String vm, String detail) {
        ItCenterLink l = link.get();
        if (l == null) {
            return;
        }
        try {
            l.call("POST", "audit", json.createObjectNode().put("kind", kind).put("vm", vm).put("detail", detail)
                    .toString(), TIMEOUT);
        } catch (RuntimeException ignored) {
            // the audit trail is best effort from the agent; the lease changes are audited by the IT center itself
        }
    }

    private Lease call(String method, String path, String body) {
        ItCenterLink l = link.get();
        if (l == null) {
            throw new CheckpointException(Reason.UNAVAILABLE, "no link to the IT center (not enrolled?)");
        }
        String answer;
        try {
            answer = l.call(method, path, body, TIMEOUT);
        } catch (AccessDeniedException e) {
            throw new CheckpointException(Reason.FENCED, "the IT center refused this agent: " + e.getMessage(), e);
        } catch (ItCenterException e) {
            throw switch (e.reason()) {
                case CONFLICT -> new CheckpointException(Reason.FENCED, e.getMessage(), e);
                case NOT_FOUND -> new CheckpointException(Reason.NOT_FOUND, e.getMessage(), e);
                case UNAVAILABLE -> new CheckpointException(Reason.UNAVAILABLE, "IT center unreachable: " + e.getMessage(),
                        e);
                case INVALID -> new CheckpointException(Reason.INVALID, e.getMessage(), e);
            };
        }
        try {
            JsonNode n = json.readTree(answer);
            return new Lease(n.path("vm").asText(), n.path("holder").isNull() ? null : n.path("holder").asText(null),
                    n.path("epoch").asLong(-1), n.path("expired").asBoolean(false));
        } catch (java.io.IOException e) {
            throw new CheckpointException(Reason.UNAVAILABLE, "unreadable lease answer: " + e.getMessage(), e);
        }
    }
}
