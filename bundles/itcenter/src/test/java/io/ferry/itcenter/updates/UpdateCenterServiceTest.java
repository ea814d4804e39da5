package io.ferry.itcenter.updates;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Method;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.ferry.api.itcenter.AuditEvent;
import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.updates.Update;
import io.ferry.api.updates.UpdateState;
import io.ferry.itcenter.internal.Store;

class UpdateCenterServiceTest {

    @TempDir
    Path dir;

    private Store store;
    private UpdateCenterService updates;

    @BeforeEach
    void open() throws Exception {
        Method open = Store.class.getDeclaredMethod("open", String.class, String.class, String.class);
        open.setAccessible(true);
        store = (Store) open.invoke(null, "jdbc:h2:file:" + dir.resolve("db").toAbsolutePath(), "sa", "");
        store.transaction(t -> {
            for (String[] a : new String[][] {{"id-a", "laptop"}, {"id-b", "handheld"}, {"id-r", "stolen"}}) {
                try (PreparedStatement ps = t.connection().prepareStatement(
                        "INSERT INTO agent (id, name, owner, device_group, registered_at) VALUES (?, ?, 'o', 'g', ?)")) {
                    ps.setString(1, a[0]);
                    ps.setString(2, a[1]);
                    ps.setObject(3, Instant.EPOCH.atOffset(ZoneOffset.UTC));
                    ps.executeUpdate();
                }
            }
            try (PreparedStatement ps = t.connection().prepareStatement(
                    "INSERT INTO agent_revocation (agent_id, revoked_at, reason) VALUES ('id-r', ?, 'lost')")) {
                ps.setObject(1, Instant.EPOCH.atOffset(ZoneOffset.UTC));
                ps.executeUpdate();
            }
            return null;
        });
        updates = new UpdateCenterService(store, Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC));
    }

    @AfterEach
    void close() {
        store.close();
    }

    private List<AuditEvent> audit(String kind) {
        return store.transaction(t -> {
            List<AuditEvent> out = new java.util.ArrayList<>();
            try (var rs = t.connection().createStatement().executeQuery(
                    "SELECT seq, kind, agent_id, actor, detail FROM audit_event WHERE kind = '" + kind + "' ORDER BY seq")) {
                while (rs.next()) {
                    out.add(new AuditEvent(rs.getLong(1), Instant.EPOCH, rs.getString(2), rs.getString(3), null,
                            rs.getString(4), rs.getString(5)));
                }
            }
            return out;
        });
    }

    @Test
    void pushRecordsOnePendingUpdatePerAgentByIdOrNameAndAudits() {
        List<Update> pushed = updates.push("ferry-hypervisor-protection", "0.1.1", "https://itc:8443/repository/features.xml",
                List.of("laptop", "id-b", "laptop"), "console:admin");
        assertThat(pushed).extracting(Update::agent).containsExactly("id-a", "id-b");
        assertThat(pushed).allSatisfy(u -> assertThat(u.state()).isEqualTo(UpdateState.PENDING));
        assertThat(updates.pending("id-a")).singleElement().satisfies(u -> {
            assertThat(u.feature()).isEqualTo("ferry-hypervisor-protection");
            assertThat(u.version()).isEqualTo("0.1.1");
            assertThat(u.repository()).isEqualTo("https://itc:8443/repository/features.xml");
        });
        assertThat(audit("update.pushed")).hasSize(2).allSatisfy(e -> assertThat(e.actor()).isEqualTo("console:admin"));
        assertThat(updates.updates(null, 10)).hasSize(2);
        assertThat(updates.updates("laptop", 10)).hasSize(1);
    }

    @Test
    void refusedPushesChangeNothing() {
        assertThatThrownBy(() -> updates.push("ferry-x", "0.1.1", null, List.of("laptop", "nobody"), "c"))
                .isInstanceOf(ItCenterException.class).hasMessageContaining("nobody");
        assertThatThrownBy(() -> updates.push("ferry-x", "0.1.1", null, List.of("stolen"), "c"))
                .isInstanceOf(ItCenterException.class).hasMessageContaining("no active agent stolen");
        assertThatThrownBy(() -> updates.push("bad name;", "0.1.1", null, List.of("laptop"), "c"))
                .hasMessageContaining("feature");
        assertThatThrownBy(() -> updates.push("ferry-x", "", null, List.of("laptop"), "c"))
                .hasMessageContaining("version");
        assertThatThrownBy(() -> updates.push("ferry-x", "1.0", "javascript:alert(1)", List.of("laptop"), "c"))
                .hasMessageContaining("repository");
        assertThatThrownBy(() -> updates.push("ferry-x", "1.0", null, List.of(), "c")).hasMessageContaining("agent");
        assertThat(updates.updates(null, 100)).isEmpty();
        assertThat(audit("update.pushed")).isEmpty();
    }

    @Test
    void anAgentReportsItsOwnUpdateOnceAndItLeavesThePendingList() {
        Update a = updates.push("ferry-x", "1.1", null, List.of("laptop"), "c").get(0);
        Update b = updates.push("ferry-x", "1.1", null, List.of("handheld"), "c").get(0);

        assertThatThrownBy(() -> updates.report("id-b", a.id(), UpdateState.APPLIED, "ok"))
                .isInstanceOfSatisfying(ItCenterException.class,
                        e -> assertThat(e.reason()).isEqualTo(ItCenterException.Reason.NOT_FOUND));
        assertThatThrownBy(() -> updates.report("id-a", a.id(), UpdateState.PENDING, "x"))
                .isInstanceOfSatisfying(ItCenterException.class,
                        e -> assertThat(e.reason()).isEqualTo(ItCenterException.Reason.INVALID));

        Update done = updates.report("id-a", a.id(), UpdateState.APPLIED, "ferry-x/1.1 active in 80 ms");
        assertThat(done.state()).isEqualTo(UpdateState.APPLIED);
        assertThat(done.reportedAt()).isNotNull();
        assertThat(updates.pending("id-a")).isEmpty();
        assertThat(updates.pending("id-b")).extracting(Update::id).containsExactly(b.id());
        assertThatThrownBy(() -> updates.report("id-a", a.id(), UpdateState.FAILED, "again"))
                .isInstanceOfSatisfying(ItCenterException.class,
                        e -> assertThat(e.reason()).isEqualTo(ItCenterException.Reason.CONFLICT));
        updates.report("id-b", b.id(), UpdateState.FAILED, "no feature ferry-x/1.1");
        assertThat(audit("update.applied")).singleElement().satisfies(e -> assertThat(e.agent()).isEqualTo("id-a"));
        assertThat(audit("update.failed")).singleElement()
                .satisfies(e -> assertThat(e.detail()).contains("no feature ferry-x/1.1"));
    }

    @Test
    void withTheFeaturesRepositoryOnlyPublishedVersionsArePushedTheLatestWhenNoneIsNamed() {
        String r1 = "mvn:io.ferry/ferry-features/0.1.1/xml/features";
        String r2 = "mvn:io.ferry/ferry-features/0.1.2/xml/features";
        List<io.ferry.api.itcenter.Release> published = List.of(
                new io.ferry.api.itcenter.Release("ferry-hypervisor-protection", "0.1.1", r1, Instant.parse("2026-01-01T00:00:00Z"), "a"),
                new io.ferry.api.itcenter.Release("ferry-hypervisor-protection", "0.1.2", r2, Instant.parse("2026-01-02T00:00:00Z"), "a"),
                new io.ferry.api.itcenter.Release("ferry-policy", "0.3.0", r2, Instant.parse("2026-01-03T00:00:00Z"), "a"));
        UpdateCenterService withRepository = new UpdateCenterService(store,
                Clock.fixed(Instant.parse("2026-01-05T00:00:00Z"), ZoneOffset.UTC), () -> published);
        assertThat(withRepository.push("ferry-hypervisor-protection", null, null, List.of("laptop"), "admin"))
                .singleElement().satisfies(u -> {
                    assertThat(u.version()).isEqualTo("0.1.2");
                    assertThat(u.repository()).isEqualTo(r2);
                });
        assertThat(withRepository.push("ferry-hypervisor-protection", "0.1.1", null, List.of("laptop"), "admin"))
                .singleElement().satisfies(u -> assertThat(u.repository()).isEqualTo(r1));
        assertThatThrownBy(() -> withRepository.push("ferry-hypervisor-protection", "0.9.9", null, List.of("laptop"), "a"))
                .isInstanceOf(ItCenterException.class).hasMessageContaining("never published");
        assertThatThrownBy(() -> withRepository.push("ferry-unknown", null, null, List.of("laptop"), "a"))
                .isInstanceOf(ItCenterException.class).hasMessageContaining("never published");
        assertThat(withRepository.pending("id-a")).hasSize(2);
    }
}
