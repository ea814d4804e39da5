package io.ferry.checkpoint.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.ferry.api.checkpoint.CheckpointException;
import io.ferry.api.checkpoint.CheckpointException.Reason;
import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.itcenter.ItCenterLink;

class LeaseClientTest {

    private final List<String> calls = new ArrayList<>();

    private ItCenterLink answering(String body, RuntimeException failure) {
        return FakeAgent.link((method, path, json) -> {
            calls.add(method + " " + path + " " + json);
            if (failure != null) {
                throw failure;
            }
            return body;
        });
    }

    @Test
    void readsTheLeaseTheItCenterAnswersAndSendsTheEpoch() {
        LeaseClient c = new LeaseClient(() -> answering("{\"vm\":\"vm1\",\"holder\":\"b\",\"epoch\":3,"
                + "\"expiresAt\":\"2026-01-01T00:00:00Z\",\"expired\":false}", null));
        LeaseClient.Lease l = c.takeOver("vm1", 2, Duration.ofSeconds(30));
        assertThat(l).isEqualTo(new LeaseClient.Lease("vm1", "b", 3, false));
        assertThat(calls).containsExactly("POST leases/vm1/transfer {\"epoch\":2,\"ttlSeconds\":30}");
        c.renew("vm1", 3, Duration.ofSeconds(9));
        assertThat(calls.get(1)).isEqualTo("POST leases/vm1/renew {\"epoch\":3,\"ttlSeconds\":9}");
    }

    @Test
    void aRefusalFencesAndAnOutageIsUnavailable() {
        LeaseClient refused = new LeaseClient(() -> answering(null,
                new ItCenterException(ItCenterException.Reason.CONFLICT, "lease of vm1 moved")));
        assertThatThrownBy(() -> refused.renew("vm1", 1, Duration.ofSeconds(30)))
                .isInstanceOf(CheckpointException.class).extracting(e -> ((CheckpointException) e).reason())
                .isEqualTo(Reason.FENCED);
        LeaseClient down = new LeaseClient(() -> answering(null,
                new ItCenterException(ItCenterException.Reason.UNAVAILABLE, "connection refused")));
        assertThatThrownBy(() -> down.get("vm1")).isInstanceOf(CheckpointException.class)
                .extracting(e -> ((CheckpointException) e).reason()).isEqualTo(Reason.UNAVAILABLE);
        LeaseClient none = new LeaseClient(() -> null);
        assertThatThrownBy(() -> none.acquire("vm1", Duration.ofSeconds(30))).isInstanceOf(CheckpointException.class)
                .extracting(e -> ((CheckpointException) e).reason()).isEqualTo(Reason.UNAVAILABLE);
        LeaseClient garbage = new LeaseClient(() -> answering("<html>", null));
        assertThatThrownBy(() -> garbage.get("vm1")).isInstanceOf(CheckpointException.class);
    }
}
