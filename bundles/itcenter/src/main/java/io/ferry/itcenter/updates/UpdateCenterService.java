package io.ferry.itcenter.updates;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.regex.Pattern;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import io.ferry.api.itcenter.AuditEntry;
import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.itcenter.ItCenterException.Reason;
import io.ferry.api.itcenter.Release;
import io.ferry.api.itcenter.ReleaseRepository;
import io.ferry.api.updates.Update;
import io.ferry.api.updates.UpdateCenter;
import io.ferry.api.updates.UpdateState;
import io.ferry.itcenter.internal.Store;

/**
 * Pushed updates: the IT center records which feature version each agent is to install; the
 * agent's updater fetches its pending ones and reports each outcome. Every push and report is in
 * the audit log ({@code update.pushed}, {@code update.applied}, {@code update.failed}) in the same
 * transaction.
 * <p>
 * With the features repository running (issue 8), only published feature versions are pushed (their
 * reference values are recorded, so the agent still attests trusted after installing them); without a
 * version the latest published one is pushed, and without a repository the release's features
 * repository, which the agent fetches from the IT center over HTTPS.
 */
@Component(service = UpdateCenter.class)
public final class UpdateCenterService implements UpdateCenter {

    private static final Pattern FEATURE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    private static final Pattern VERSION = Pattern.compile("[0-9][A-Za-z0-9._-]{0,63}");

    private final Store store;
    private final Clock clock;
    private final Supplier<List<Release>> releases;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile ReleaseRepository repository;

    @Activate
    public UpdateCenterService(@Reference Store store) {
        this.store = store;
        this.clock = Clock.systemUTC();
        this.releases = () -> {
            ReleaseRepository r = repository;
            return r == null ? null : r.releases();
        };
    }

    UpdateCenterService(Store store, Clock clock) {
        this(store, clock, () -> null);
    }

    /** For tests: the published releases given (null: no features repository). */
    UpdateCenterService(Store store, Clock clock, Supplier<List<Release>> releases) {
        this.store = store;
        this.clock = clock;
        this.releases = releases;
    }

    @Override
    public List<Update> push(String feature, String version, String repository, List<String> agents, String actor) {
        check(feature != null && FEATURE.matcher(feature).matches(), "feature: a Karaf feature name, not '" + feature + "'");
        List<Release> published = releases.get();
        if (published != null) {
            // only what the IT center published (and so has reference values for); the latest when no version
            List<Release> ofFeature = published.stream().filter(r -> r.feature().equals(feature)).toList();
            String asked = version;
            Optional<Release> release = asked == null || asked.isBlank()
                    ? ofFeature.stream().reduce((a, b) -> b.publishedAt().isBefore(a.publishedAt()) ? a : b)
                    : ofFeature.stream().filter(r -> r.version().equals(asked)).findFirst();
            if (release.isEmpty()) {
                throw new ItCenterException(Reason.CONFLICT, feature + (version == null || version.isBlank() ? ""
                        : "/" + version) + " was never published (itcenter:publish): agents would not attest "
                        + "trusted after installing it; nothing pushed");
            }
            version = release.get().version();
            if (repository == null || repository.isBlank()) {
                repository = release.get().repository();
            }
        }
        check(version != null && VERSION.matcher(version).matches(), "version: a feature version, not '" + version + "'");
        String pushed = version;
        String repo = repository == null || repository.isBlank() ? null : repository.strip();
        if (repo != null) {
            check(repo.length() <= 1000 && repo.matches("(https?|mvn|file):\\S+"),
                    "repository: an http(s), mvn or file URI of a features repository, not '" + repo + "'");
        }
        check(agents != null && !agents.isEmpty(), "name at least one agent");
        Objects.requireNonNull(actor, "actor");
        Instant now = clock.instant();
        return store.transaction(t -> {
            UpdateTable table = new UpdateTable(t.connection());
            List<Update> out = new ArrayList<>();
            for (String a : new LinkedHashSet<>(agents)) {
                Optional<String> id = table.activeAgent(a);
                if (id.isEmpty()) {
                    throw new ItCenterException(Reason.NOT_FOUND, "no active agent " + a + ": nothing pushed");
                }
                Update u = table.insert(id.get(), feature, pushed, repo, actor, now);
                t.appendAudit(new AuditEntry("update.pushed", id.get(), null, actor, "update " + u.id() + ": "
                        + feature + "/" + pushed + (repo == null ? "" : " from " + repo)), now);
                out.add(u);
            }
            return out;
        });
    }

    @Override
    public List<Update> updates(String agent, int limit) {
        check(limit >= 1 && limit <= 10_000, "limit: 1 to 10000");
        return store.transaction(t -> {
            UpdateTable table = new UpdateTable(t.connection());
            String id = null;
            if (agent != null) {
                id = table.activeAgent(agent).orElse(agent);
            }
            return table.list(id, limit);
        });
    }

    @Override
    public List<Update> pending(String agentId) {
        Objects.requireNonNull(agentId, "agentId");
        return store.transaction(t -> new UpdateTable(t.connection()).pending(agentId));
    }

    @Override
    public Update report(String agentId, long id, UpdateState state, String detail) {
        check(state == UpdateState.APPLIED || state == UpdateState.FAILED, "state: APPLIED or FAILED, not " + state);
        String d = detail == null ? "" : detail.length() > 4000 ? detail.substring(0, 3997) + "..." : detail;
        Instant now = clock.instant();
        return store.transaction(t -> {
            UpdateTable table = new UpdateTable(t.connection());
            Update u = table.lock(id).filter(x -> x.agent().equals(agentId))
                    .orElseThrow(() -> new ItCenterException(Reason.NOT_FOUND, "no update " + id + " for this agent"));
            if (u.state() != UpdateState.PENDING) {
                throw new ItCenterException(Reason.CONFLICT, "update " + id + " was already reported " + u.state());
            }
            table.report(id, state, d, now);
            t.appendAudit(new AuditEntry(state == UpdateState.APPLIED ? "update.applied" : "update.failed", agentId,
                    null, "agent:" + agentId, "update " + id + ": " + u.feature() + "/" + u.version()
                            + (d.isEmpty() ? "" : ": " + d)), now);
            return new Update(u.id(), u.agent(), u.feature(), u.version(), u.repository(), state, d, u.pushedAt(), now);
        });
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new ItCenterException(Reason.INVALID, message);
        }
    }
}
