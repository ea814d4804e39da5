package io.ferry.checkpoint.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.ferry.api.channel.AgentAddress;
import io.ferry.api.channel.AgentChannels;
import io.ferry.api.checkpoint.CheckpointException;
import io.ferry.api.checkpoint.CheckpointSettings;
import io.ferry.api.checkpoint.CheckpointStatus;
import io.ferry.api.checkpoint.Compression;
import io.ferry.api.hypervisor.DomainState;
import io.ferry.api.hypervisor.DomainSummary;
import io.ferry.api.hypervisor.Hypervisor;
import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.itcenter.ItCenterLink;
import io.ferry.seal.testing.MemorySealStorage;

/**
 * The primary's side of {@code checkpoint:disable}, against a fake IT center and backup: the lease is
 * released only once renewals have stopped (a renewal refused after the release would stop the VM), the
 * backup is told, either suffices, and with neither reachable the disable fails and protection goes on
 * (renewals continue, nothing released).
 */
class DisableTest {

    @TempDir
    java.nio.file.Path tmp;

    /** Every call to the IT center: method and path. */
    private final List<String> itCenter = new CopyOnWriteArrayList<>();
    /** What the backup received (message type and VM). */
    private final List<String> backup = new CopyOnWriteArrayList<>();
    private final List<String> hostCalls = new CopyOnWriteArrayList<>();
    private volatile boolean itCenterDown;
    private volatile boolean backupDown;
    private volatile boolean released;
    private final AtomicLong renewals = new AtomicLong();
    private CheckpointService primary;

    @AfterEach
    void close() {
        if (primary != null) {
            primary.close();
        }
    }

    private CheckpointService primary() throws IOException {
        CheckpointConfig config = FakeAgent.config(Map.of("store_dir", tmp.resolve("store").toString(), "work_dir",
                tmp.resolve("work").toString(), "failover", "manual", "lease_ttl_s", 6 /* renewals every 2 s */,
                "heartbeat_interval_ms", 200L, "fence", "none"));
        Hypervisor host = (Hypervisor) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {Hypervisor.class}, (proxy, m, args) -> {
                    hostCalls.add(m.getName());
                    return switch (m.getName()) {
                        case "domain" -> new DomainSummary("vm1", "u", DomainState.RUNNING, 0, 1, 0, true);
                        case "exists" -> true;
                        case "hostName" -> "h";
                        case "uri" -> "test:///default";
                        case "suspend", "resume", "stop" -> null;
                        default -> throw new UnsupportedOperationException(m.getName()); // no checkpoint here
                    };
                });
        AgentChannels channels = FakeAgent.channels("laptop", peer -> {
            if (backupDown) {
                throw new java.io.UncheckedIOException(new IOException("connection refused"));
            }
            return new BackupChannel();
        });
        ItCenterLink link = FakeAgent.link((method, path, json) -> {
            if ("audit".equals(path)) {
                return "{}";
            }
            if (itCenterDown) {
                throw new ItCenterException(ItCenterException.Reason.UNAVAILABLE, "connection refused");
            }
            itCenter.add(method + " " + path);
            if (path.endsWith("/renew")) {
                renewals.incrementAndGet();
                if (released) {
                    throw new ItCenterException(ItCenterException.Reason.CONFLICT, "lease of vm1 released");
                }
            }
            if ("DELETE".equals(method)) {
                released = true;
                return "{\"vm\":\"vm1\",\"holder\":null,\"epoch\":1,\"expired\":true}";
            }
            return "{\"vm\":\"vm1\",\"holder\":\"laptop\",\"epoch\":1,\"expired\":false}";
        });
        primary = new CheckpointService(config, channels, new MemorySealStorage(), h -> "h".equals(h) ? host : null,
                () -> link);
        primary.enable(new CheckpointSettings("vm1", "h", new AgentAddress("handheld", "127.0.0.1", 1),
                Duration.ofHours(1), Compression.ZSTD, true));
        return primary;
    }

    /** The backup's end of one channel: answers KEY with OK and its latest sequence 0, DISABLE with OK. */
    private final class BackupChannel extends FakeAgent.FakeChannel {
        private final ByteArrayOutputStream written;
        private InputStream answer;

        BackupChannel() {
            this(new ByteArrayOutputStream());
        }

        private BackupChannel(ByteArrayOutputStream written) {
            super("handheld", null, written);
            this.written = written;
        }

        @Override
        public InputStream input() {
            try {
                return answer();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        private InputStream answer() throws IOException {
            if (answer == null) {
                DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(written.toByteArray()));
                String type = in.readUTF();
                String vm = in.readUTF();
                backup.add(type + " " + vm + " " + in.readLong());
                PipedOutputStream out = new PipedOutputStream();
                answer = new PipedInputStream(out, 1024);
                DataOutputStream d = new DataOutputStream(out);
                d.writeUTF("OK");
                if ("KEY".equals(type)) {
                    d.writeLong(0);
                }
                d.close();
            }
            return answer;
        }
    }

    private CheckpointStatus.Role role(CheckpointService s) {
        return s.status().stream().filter(x -> x.vm().equals("vm1")).map(CheckpointStatus::role).findFirst()
                .orElse(null);
    }

    @Test
    void withTheBackupCutOffTheLeaseIsReleasedAfterTheLastRenewalAndTheVmRunsOn() throws Exception {
        CheckpointService p = primary();
        Thread.sleep(2500); // a renewal or two
        assertThat(renewals.get()).isPositive();
        backupDown = true;
        assertThat(p.disable("vm1")).isTrue();
        assertThat(itCenter).contains("DELETE leases/vm1?epoch=1");
        int releasedAt = itCenter.indexOf("DELETE leases/vm1?epoch=1");
        Thread.sleep(2500);
        assertThat(itCenter.subList(releasedAt + 1, itCenter.size())).as("nothing renewed after the release")
                .noneMatch(c -> c.endsWith("/renew"));
        assertThat(hostCalls).as("the VM is neither paused nor stopped").doesNotContain("stop", "suspend");
        assertThat(role(p)).isNull();
        assertThat(tmp.resolve("work").resolve("primaries").resolve("vm1.properties")).doesNotExist();
    }

    @Test
    void withTheItCenterDownTheBackupToldSuffices() throws Exception {
        CheckpointService p = primary();
        itCenterDown = true;
        assertThat(p.disable("vm1")).isTrue();
        assertThat(backup).contains("DISABLE vm1 1");
        assertThat(role(p)).isNull();
    }

    @Test
    void withNeitherReachableTheDisableFailsAndProtectionGoesOn() throws Exception {
        CheckpointService p = primary();
        itCenterDown = true;
        backupDown = true;
        assertThatThrownBy(() -> p.disable("vm1")).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("protection goes on")
                .extracting(e -> ((CheckpointException) e).reason()).isEqualTo(CheckpointException.Reason.UNAVAILABLE);
        assertThat(role(p)).isEqualTo(CheckpointStatus.Role.PRIMARY);
        assertThat(tmp.resolve("work").resolve("primaries").resolve("vm1.properties")).exists();
        // renewals go on once the IT center is back
        itCenterDown = false;
        long before = renewals.get();
        Thread.sleep(2500);
        assertThat(renewals.get()).isGreaterThan(before);
        assertThat(itCenter).noneMatch(c -> c.startsWith("DELETE"));
    }
}
