package io.ferry.itcenter.updates;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import io.ferry.api.itcenter.AuditEntry;
import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.itcenter.ItCenterException.Reason;
import io.ferry.api.updates.Update;
import io.ferry.api.updates.UpdateCenter;
import io.ferry.api.updates.UpdateState;
import io.ferry.itcenter.internal.Store;

/**
 * Pushed updates: the IT center records which feature version each agent is to install; the
 * agent's updater fetches its pending ones and reports each outcome. Every push and report is in
 * the audit log ({@code update.pushed}, {@code update.applied}, {@code update.failed}) in the same
 * transaction.
 */
@Component(service = UpdateCenter.class)
public final class UpdateCenterService implements UpdateCenter {

    private static final Pattern FEATURE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    private static final Pattern VERSION = Pattern.compile("[0-9][A-Za-z0-9._-]{0,63}");

    private final Store store;
    private final Clock clock;

    @Activate
    public UpdateCenterService(@Reference Store store) {
        this(store, Clock.systemUTC());
    }

    UpdateCenterService(Store store, Clock clock) {
        this.store = store;
        this.clock = clock;
    }

    @Override
    public List<Update> push(String feature, String version, String repository, List<String> agents, String actor) {
        check(feature != null && FEATURE.matcher(feature).matches(), "feature: a Karaf feature name, not '" + feature + "'");
        check(version != null && VERSION.matcher(version).matches(), "version: a feature version, not '" + version + "'");
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
                Update u = table.insert(id.get(), feature, version, repo, actor, now);
                t.appendAudit(new AuditEntry("update.pushed", id.get(), null, actor, "update " + u.id() + ": "
                        + feature + "/" + version + (repo == null ? "" : " from " + repo)), now);
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
