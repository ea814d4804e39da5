package io.ferry.updater.internal;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.itcenter.ItCenterLink;
import io.ferry.api.seal.Approval;
import io.ferry.api.updates.ApprovalRenewal;

/**
 * The updater's state machine, free of OSGi. Each pushed update goes RECEIVED → INSTALLING →
 * INSTALLED or FAILED → REPORTED. An update is installed at most once per agent run; an outcome the
 * IT center did not take is sent again at the next poll, without installing again.
 */
final class Updater {

    private static final Logger LOG = LoggerFactory.getLogger(Updater.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String SELF = "ferry-updater";

    /** Where one update stands. */
    enum Phase {
        RECEIVED, INSTALLING, INSTALLED, FAILED, REPORTED
    }

    /** A pushed update as the IT center sends it. */
    record Pushed(long id, String feature, String version, String repository) {
    }

    /** One update's progress on this agent. */
    record Track(Pushed update, Phase phase, boolean applied, String detail, Instant at) {
    }

    private final Supplier<ItCenterLink> link;
    private final FeatureInstaller installer;
    private final List<String> allowed;
    private final Duration timeout;
    private final Clock clock;
    private final Supplier<ApprovalRenewal> renewal;
    private final Map<Long, Track> tracks = new LinkedHashMap<>();

    Updater(Supplier<ItCenterLink> link, FeatureInstaller installer, List<String> allowed, Duration timeout,
            Clock clock) {
        this(link, installer, allowed, timeout, clock, null);
    }

    /**
     * @param renewal after an applied update, the renewal of seal storage's approval for the new measured state
     *        (null: none; a supplier giving null: the renewal service is not there, which the report says)
     */
    Updater(Supplier<ItCenterLink> link, FeatureInstaller installer, List<String> allowed, Duration timeout,
            Clock clock, Supplier<ApprovalRenewal> renewal) {
        this.link = link;
        this.installer = installer;
        this.allowed = List.copyOf(allowed);
        this.timeout = timeout;
        this.clock = clock;
        this.renewal = renewal;
    }

    /** One poll: send outcomes not yet taken, fetch pending updates, apply the new ones. Returns how many were applied. */
    synchronized int poll() {
        ItCenterLink l = link.get();
        if (l == null || !l.enrolled()) {
            LOG.debug("No update poll: {}", l == null ? "no IT center link" : "not enrolled");
            return 0;
        }
        for (Track t : List.copyOf(tracks.values())) {
            if (t.phase() == Phase.INSTALLED || t.phase() == Phase.FAILED) {
                report(l, t);
            }
        }
        List<Pushed> pending;
        try {
            pending = parse(l.call("GET", "updates/pending", null, timeout));
        } catch (RuntimeException e) {
            LOG.warn("Cannot fetch pending updates from the IT center: {}", e.getMessage());
            return 0;
        }
        int applied = 0;
        for (Pushed u : pending) {
            if (tracks.containsKey(u.id())) {
                continue;
            }
            Track t = apply(u);
            applied += t.applied() ? 1 : 0;
            report(l, t);
        }
        return applied;
    }

    private Track apply(Pushed u) {
        set(new Track(u, Phase.RECEIVED, false, null, clock.instant()));
        String refused = refusal(u.feature());
        if (refused != null) {
            LOG.warn("Update {} refused: {}", u.id(), refused);
            return set(new Track(u, Phase.FAILED, false, refused, clock.instant()));
        }
        set(new Track(u, Phase.INSTALLING, false, null, clock.instant()));
        long start = System.nanoTime();
        LOG.info("Applying update {}: feature {}/{}{}", u.id(), u.feature(), u.version(),
                u.repository() == null ? "" : " from " + u.repository());
        try {
            installer.install(u.feature(), u.version(), u.repository());
            long ms = (System.nanoTime() - start) / 1_000_000;
            String detail = u.feature() + "/" + u.version() + " active in " + ms + " ms: "
                    + installer.describe(u.feature(), u.version()) + renew(u);
            LOG.info("Update {} applied: {}", u.id(), detail);
            return set(new Track(u, Phase.INSTALLED, true, detail, clock.instant()));
        } catch (Exception e) {
            String detail = e.getClass().getSimpleName() + ": " + e.getMessage();
            LOG.error("Update {} ({}/{}) failed: {}", u.id(), u.feature(), u.version(), detail, e);
            return set(new Track(u, Phase.FAILED, false, detail, clock.instant()));
        }
    }

    /**
     * The update changed the measured state (the new bundle was measured before it started): seal storage
     * unseals again only under an approval of the new PCR values, which the IT center signs once a fresh
     * attestation proved them. A failed renewal does not undo the update; the report says so.
     */
    private String renew(Pushed u) {
        if (renewal == null) {
            return "";
        }
        ApprovalRenewal r = renewal.get();
        if (r == null) {
            LOG.warn("Update {}: seal approval not renewed: no approval renewal service", u.id());
            return "; seal approval not renewed: no approval renewal service";
        }
        try {
            Approval a = r.renew(step -> LOG.info("Update {}: {}", u.id(), step));
            return "; seal approval version " + a.version() + " installed";
        } catch (RuntimeException e) {
            LOG.error("Update {}: seal approval NOT renewed, sealed secrets stay locked until it is: {}", u.id(),
                    e.getMessage(), e);
            return "; seal approval NOT renewed: " + e.getMessage();
        }
    }

    private String refusal(String feature) {
        if (SELF.equals(feature)) {
            return "the updater does not update itself (its own bundle would stop mid-install): install "
                    + SELF + " from the console";
        }
        for (String a : allowed) {
            if (a.endsWith("*") ? feature.startsWith(a.substring(0, a.length() - 1)) : feature.equals(a)) {
                return null;
            }
        }
        return "feature " + feature + " is not among the allowed features " + allowed;
    }

    private void report(ItCenterLink l, Track t) {
        Map<String, String> body = new LinkedHashMap<>();
        body.put("state", t.applied() ? "APPLIED" : "FAILED");
        String detail = t.detail() == null ? "" : t.detail();
        body.put("detail", detail.length() > 4000 ? detail.substring(0, 3997) + "..." : detail);
        try {
            l.call("POST", "updates/" + t.update().id() + "/result", JSON.writeValueAsString(body), timeout);
        } catch (ItCenterException e) {
            if (e.reason() != ItCenterException.Reason.CONFLICT) {
                LOG.warn("Outcome of update {} not taken by the IT center (retried at the next poll): {}",
                        t.update().id(), e.getMessage());
                return;
            }
        } catch (Exception e) {
            LOG.warn("Outcome of update {} not sent (retried at the next poll): {}", t.update().id(), e.getMessage());
            return;
        }
        set(new Track(t.update(), Phase.REPORTED, t.applied(), t.detail(), clock.instant()));
    }

    private Track set(Track t) {
        tracks.put(t.update().id(), t);
        return t;
    }

    synchronized List<Track> tracks() {
        return new ArrayList<>(tracks.values());
    }

    static List<Pushed> parse(String json) {
        List<Pushed> out = new ArrayList<>();
        try {
            JsonNode root = JSON.readTree(json == null || json.isBlank() ? "[]" : json);
            if (!root.isArray()) {
                throw new IllegalArgumentException("not a JSON array");
            }
            for (JsonNode n : root) {
                String feature = n.path("feature").asText("");
                String version = n.path("version").asText("");
                if (!n.path("id").canConvertToLong() || feature.isEmpty() || version.isEmpty()) {
                    throw new IllegalArgumentException("an update needs id, feature and version: " + n);
                }
                JsonNode repo = n.get("repository");
                out.add(new Pushed(n.get("id").asLong(), feature, version,
                        repo == null || repo.isNull() || repo.asText().isBlank() ? null : repo.asText()));
            }
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("the IT center's pending updates are not JSON: " + e.getOriginalMessage());
        }
        return out;
    }
}
