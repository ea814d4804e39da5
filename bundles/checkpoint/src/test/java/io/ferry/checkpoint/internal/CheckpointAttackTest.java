package io.ferry.checkpoint.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.lang.reflect.Proxy;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.ferry.api.channel.AgentChannels;
import io.ferry.api.checkpoint.CheckpointException;
import io.ferry.api.checkpoint.CheckpointStatus;
import io.ferry.api.checkpoint.Compression;
import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.itcenter.ItCenterLink;
import io.ferry.seal.testing.MemorySealStorage;

/**
 * Attacks on the checkpoint stream at the backup that the format alone does not catch (truncation,
 * another key, foreign or reordered chunks and replays are in {@link CheckpointFormatTest} and
 * {@link BackupStoreTest}): a checkpoint relayed by an agent other than the one that took it, and
 * one from a lease epoch older than the backup's latest (a fenced old primary); and, through the
 * backup's channel handler ({@link CheckpointService#accept}) with a lease witness, another enrolled
 * agent's {@code KEY}, {@code CHECKPOINT} and {@code HEARTBEAT} for a VM it is not the primary of.
 */
class CheckpointAttackTest {

    static final byte[] KEY = CheckpointFormatTest.KEY;

    @TempDir
    Path tmp;

    private BackupStore store;

    @BeforeEach
    void setUp() throws IOException {
        store = new BackupStore(tmp.resolve("store"), new DiskTool("qemu-img"), 1L << 30, BackupStore.StepHook.NONE,
                vm -> KEY);
    }

    private static byte[] checkpoint(String primary, long sequence, long epoch) throws IOException {
        byte[] salt = new byte[16];
        new SecureRandom().nextBytes(salt);
        Header h = new Header("vm1", primary, sequence, -1, epoch, 1_000 * sequence, Compression.ZSTD, -1, salt);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        CheckpointWriter w = new CheckpointWriter(out, h, KEY, null);
        w.section(Section.XML, "", ("<domain><name>vm1</name><seq>" + sequence + "</seq></domain>")
                .getBytes(StandardCharsets.UTF_8));
        w.section(Section.MEMORY, "", CheckpointFormatTest.memory(sequence, 10));
        w.finish();
        return out.toByteArray();
    }

    @Test
    void aCheckpointRelayedByAnotherAgentThanTheOneThatTookItIsRefused() throws Exception {
        byte[] laptops = checkpoint("laptop", 1, 1);
        assertThatThrownBy(() -> store.receive("vm1", "eve", new ByteArrayInputStream(laptops), KEY))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("taken by laptop but sent by eve")
                .extracting(e -> ((CheckpointException) e).reason()).isEqualTo(CheckpointException.Reason.REJECTED);
        assertThat(store.latest("vm1")).isEmpty();
        // the same bytes from the agent that took them are accepted: the refusal was the relay
        assertThat(store.receive("vm1", "laptop", new ByteArrayInputStream(laptops), KEY).sequence()).isEqualTo(1);
    }

    @Test
    void aCheckpointFromAnOlderLeaseEpochIsRefusedEvenWithAHigherSequence() throws Exception {
        store.receive("vm1", "laptop", new ByteArrayInputStream(checkpoint("laptop", 1, 2)), KEY);
        byte[] stale = checkpoint("laptop", 5, 1);
        assertThatThrownBy(() -> store.receive("vm1", "laptop", new ByteArrayInputStream(stale), KEY))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("from lease epoch 1, older than 2");
        assertThat(store.latest("vm1").orElseThrow().sequence()).isEqualTo(1);
        assertThat(store.receive("vm1", "laptop", new ByteArrayInputStream(checkpoint("laptop", 6, 2)), KEY)
                .sequence()).isEqualTo(6);
    }

    // ------------------------------------------------------------ the backup's channel handler

    static final byte[] LAPTOP_KEY = filled(7);
    static final byte[] EVE_KEY = filled(66);

    private static byte[] filled(int b) {
        byte[] k = new byte[32];
        Arrays.fill(k, (byte) b);
        return k;
    }

    /** The IT center's leases as the backup sees them, and the audit events it receives. */
    private final Map<String, String> leases = new ConcurrentHashMap<>();
    private final List<String> audit = new CopyOnWriteArrayList<>();
    private volatile boolean itCenterDown;
    private final MemorySealStorage seal = new MemorySealStorage();
    private final List<CheckpointService> services = new ArrayList<>();

    @AfterEach
    void closeServices() {
        services.forEach(CheckpointService::close);
    }

    private void lease(String vm, String holder, long epoch) {
        leases.put(vm, "{\"vm\":\"" + vm + "\",\"holder\":\"" + holder + "\",\"epoch\":" + epoch
                + ",\"expired\":false}");
    }

    private void expiredLease(String vm, String holder, long epoch) {
        leases.put(vm, "{\"vm\":\"" + vm + "\",\"holder\":\"" + holder + "\",\"epoch\":" + epoch
                + ",\"expired\":true}");
    }

    /** Released by its holder at {@code epoch} (checkpoint:disable): no holder. */
    private void releasedLease(String vm, long epoch) {
        leases.put(vm, "{\"vm\":\"" + vm + "\",\"holder\":null,\"epoch\":" + epoch + ",\"expired\":true}");
    }

    /** Every call the backup made to the IT center other than GET and audit (there should be none here). */
    private final List<String> itCenterWrites = new CopyOnWriteArrayList<>();

    /** A hypervisor the backup may look up but must not use (these tests never get as far as restoring). */
    private static final io.ferry.api.hypervisor.Hypervisor UNUSED_HOST = (io.ferry.api.hypervisor.Hypervisor) Proxy
            .newProxyInstance(CheckpointAttackTest.class.getClassLoader(),
                    new Class<?>[] {io.ferry.api.hypervisor.Hypervisor.class}, (proxy, m, args) -> {
                        throw new UnsupportedOperationException("the backup must not touch its host: " + m.getName());
                    });

    private CheckpointService backup() throws IOException {
        CheckpointConfig config = FakeAgent.config(Map.of("store_dir", tmp.resolve("backup-store").toString(),
                "work_dir", tmp.resolve("backup-work").toString(), "failover", "manual",
                "lease_ttl_s", 3 /* heartbeats reuse a lease answer for 1 s */, "fence", "none"));
        AgentChannels channels = FakeAgent.channels("backup", peer -> {
            throw new UnsupportedOperationException("the backup opens no channel here");
        });
        ItCenterLink link = FakeAgent.link((method, path, json) -> {
            if (itCenterDown) {
                throw new ItCenterException(ItCenterException.Reason.UNAVAILABLE, "connection refused");
            }
            if ("POST".equals(method) && "audit".equals(path)) {
                audit.add(json);
                return "{}";
            }
            if ("GET".equals(method) && path.startsWith("leases/")) {
                String answer = leases.get(path.substring("leases/".length()));
                if (answer == null) {
                    throw new ItCenterException(ItCenterException.Reason.NOT_FOUND, "no lease");
                }
                return answer;
            }
            itCenterWrites.add(method + " " + path);
            throw new ItCenterException(ItCenterException.Reason.INVALID, "the backup must not " + method + " " + path);
        });
        CheckpointService s = new CheckpointService(config, channels, seal, host -> UNUSED_HOST, () -> link);
        services.add(s);
        return s;
    }

    /** One message over a fake channel from {@code peer}; returns what the backup answered. */
    private static DataInputStream send(CheckpointService backup, String peer, byte[] message) throws IOException {
        ByteArrayOutputStream answer = new ByteArrayOutputStream();
        backup.accept(new FakeAgent.FakeChannel(peer, new ByteArrayInputStream(message), answer));
        return new DataInputStream(new ByteArrayInputStream(answer.toByteArray()));
    }

    private static String key(CheckpointService backup, String peer, String vm, long epoch, byte[] key)
            throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(b);
        out.writeUTF("KEY");
        out.writeUTF(vm);
        out.writeLong(epoch);
        out.write(key);
        return send(backup, peer, b.toByteArray()).readUTF();
    }

    private static String checkpoint(CheckpointService backup, String peer, String vm, long sequence, long epoch,
            byte[] key) throws IOException {
        byte[] salt = new byte[16];
        new SecureRandom().nextBytes(salt);
        Header h = new Header(vm, peer, sequence, -1, epoch, 1_000 * sequence, Compression.ZSTD, -1, salt);
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(b);
        out.writeUTF("CHECKPOINT");
        out.writeUTF(vm);
        CheckpointWriter w = new CheckpointWriter(out, h, key, null);
        w.section(Section.XML, "", ("<domain><name>" + vm + "</name><by>" + peer + "</by></domain>")
                .getBytes(StandardCharsets.UTF_8));
        w.section(Section.MEMORY, "", CheckpointFormatTest.memory(sequence, 10));
        w.finish();
        out.flush();
        DataInputStream answer = send(backup, peer, b.toByteArray());
        String verdict = answer.readUTF();
        return "OK".equals(verdict) ? verdict : verdict + ": " + answer.readUTF();
    }

    private static void heartbeat(CheckpointService backup, String peer, String vm, long epoch, long sequence)
            throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(b);
        out.writeUTF("HEARTBEAT");
        out.writeUTF(vm);
        out.writeLong(epoch);
        out.writeLong(sequence);
        send(backup, peer, b.toByteArray());
    }

    private static String disable(CheckpointService backup, String peer, String vm, long epoch) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(b);
        out.writeUTF("DISABLE");
        out.writeUTF(vm);
        out.writeLong(epoch);
        return send(backup, peer, b.toByteArray()).readUTF();
    }

    private static CheckpointStatus status(CheckpointService backup, String vm) {
        return backup.status().stream().filter(s -> s.vm().equals(vm)).findFirst().orElse(null);
    }

    private void awaitAudit(String... parts) throws InterruptedException {
        long until = System.nanoTime() + 5_000_000_000L;
        while (System.nanoTime() < until) {
            if (audit.stream().anyMatch(a -> Arrays.stream(parts).allMatch(a::contains))) {
                return;
            }
            Thread.sleep(20);
        }
        assertThat(audit).as("an audit event with " + Arrays.toString(parts))
                .anyMatch(a -> Arrays.stream(parts).allMatch(a::contains));
    }

    /** laptop holds vm1's lease at epoch 2, paired with the backup by its KEY, checkpoint 1 stored, beating. */
    private CheckpointService protectedByLaptop() throws Exception {
        lease("vm1", "laptop", 2);
        CheckpointService backup = backup();
        assertThat(key(backup, "laptop", "vm1", 2, LAPTOP_KEY)).isEqualTo("OK");
        assertThat(checkpoint(backup, "laptop", "vm1", 1, 2, LAPTOP_KEY)).isEqualTo("OK");
        heartbeat(backup, "laptop", "vm1", 2, 1);
        assertThat(status(backup, "vm1").peer()).isEqualTo("laptop");
        return backup;
    }

    @Test
    void aForeignEnrolledAgentsKeyCheckpointAndHeartbeatForAnothersVmAreRefusedAndChangeNothing() throws Exception {
        CheckpointService backup = protectedByLaptop();
        Instant beat = status(backup, "vm1").lastHeartbeat();
        Thread.sleep(5);

        // eve (a valid certificate, enrolled) claims vm1 at the lease's epoch and at a higher one
        assertThat(key(backup, "eve", "vm1", 2, EVE_KEY)).startsWith("REFUSED").contains("paired with laptop");
        assertThat(key(backup, "eve", "vm1", 3, EVE_KEY)).startsWith("REFUSED");
        assertThat(seal.get(CheckpointService.keyName("vm1"))).isEqualTo(LAPTOP_KEY);
        assertThat(checkpoint(backup, "eve", "vm1", 9, 3, EVE_KEY)).startsWith("REJECTED")
                .contains("refused");
        assertThat(checkpoint(backup, "eve", "vm1", 10, 2, LAPTOP_KEY)).startsWith("REJECTED");
        heartbeat(backup, "eve", "vm1", 3, 9);
        CheckpointStatus after = status(backup, "vm1");
        assertThat(after.peer()).isEqualTo("laptop");
        assertThat(after.lastHeartbeat()).isEqualTo(beat);
        assertThat(backup.stored()).singleElement().satisfies(c -> {
            assertThat(c.sequence()).isEqualTo(1);
            assertThat(c.primary()).isEqualTo("laptop");
            assertThat(c.epoch()).isEqualTo(2);
        });
        assertThat(Files.list(tmp.resolve("backup-store").resolve("vm1").resolve("incoming"))).isEmpty();
        awaitAudit("checkpoint.refused", "KEY for vm1 from eve");
        awaitAudit("checkpoint.refused", "CHECKPOINT for vm1 from eve");
        awaitAudit("checkpoint.refused", "HEARTBEAT for vm1 from eve");

        // even holding the lease (say vm1's lease lapsed and eve acquired it) eve is not the paired primary
        lease("vm1", "eve", 3);
        assertThat(key(backup, "eve", "vm1", 3, EVE_KEY)).startsWith("REFUSED").contains("paired with laptop");
        assertThat(checkpoint(backup, "eve", "vm1", 11, 3, EVE_KEY)).startsWith("REJECTED");
        assertThat(seal.get(CheckpointService.keyName("vm1"))).isEqualTo(LAPTOP_KEY);
        assertThat(backup.stored()).singleElement().extracting(c -> c.sequence()).isEqualTo(1L);

        // the pairing outlives a restart of the backup
        backup.close();
        CheckpointService restarted = backup();
        assertThat(key(restarted, "eve", "vm1", 3, EVE_KEY)).startsWith("REFUSED").contains("paired with laptop");
        assertThat(seal.get(CheckpointService.keyName("vm1"))).isEqualTo(LAPTOP_KEY);

        // a VM nobody paired yet: the first KEY must come from its lease holder
        lease("vm2", "bob", 1);
        assertThat(key(restarted, "eve", "vm2", 1, EVE_KEY)).startsWith("REFUSED").contains("held by bob");
        assertThat(seal.list()).doesNotContain(CheckpointService.keyName("vm2"));
        heartbeat(restarted, "eve", "vm2", 1, 1);
        assertThat(status(restarted, "vm2")).isNull();
        assertThat(key(restarted, "bob", "vm2", 1, filled(3))).isEqualTo("OK");
        assertThat(key(restarted, "eve", "vm2", 1, EVE_KEY)).startsWith("REFUSED").contains("paired with bob");
        assertThat(seal.get(CheckpointService.keyName("vm2"))).isEqualTo(filled(3));
    }

    @Test
    void theLeaseHoldersKeyCheckpointsAndHeartbeatsAreAccepted() throws Exception {
        CheckpointService backup = protectedByLaptop();
        Instant beat = status(backup, "vm1").lastHeartbeat();
        assertThat(checkpoint(backup, "laptop", "vm1", 2, 2, LAPTOP_KEY)).isEqualTo("OK");
        Thread.sleep(5);
        heartbeat(backup, "laptop", "vm1", 2, 2);
        assertThat(status(backup, "vm1").lastHeartbeat()).isAfter(beat);
        assertThat(backup.stored()).singleElement().extracting(c -> c.sequence()).isEqualTo(2L);
        // a re-enable (new key at the same lease) from the holder is accepted
        assertThat(key(backup, "laptop", "vm1", 2, filled(8))).isEqualTo("OK");
        assertThat(seal.get(CheckpointService.keyName("vm1"))).isEqualTo(filled(8));
        assertThat(audit).noneMatch(a -> a.contains("checkpoint.refused"));

        // IT center unreachable: the paired primary's heartbeats still count (no failover out of an outage),
        // a foreign agent's still do not
        itCenterDown = true;
        Thread.sleep(1100); // past the heartbeat's lease cache
        Instant before = status(backup, "vm1").lastHeartbeat();
        Thread.sleep(5);
        heartbeat(backup, "laptop", "vm1", 2, 2);
        assertThat(status(backup, "vm1").lastHeartbeat()).isAfter(before);
        Instant laptops = status(backup, "vm1").lastHeartbeat();
        heartbeat(backup, "eve", "vm1", 2, 2);
        assertThat(status(backup, "vm1").lastHeartbeat()).isEqualTo(laptops);
        assertThat(status(backup, "vm1").peer()).isEqualTo("laptop");
    }

    @Test
    void aStaleOrInflatedLeaseEpochIsRefusedEvenFromThePairedPrimary() throws Exception {
        CheckpointService backup = protectedByLaptop();
        // the lease moved on (laptop re-acquired it at epoch 3): epoch 2 is stale
        lease("vm1", "laptop", 3);
        Thread.sleep(1100);
        Instant beat = status(backup, "vm1").lastHeartbeat();
        assertThat(key(backup, "laptop", "vm1", 2, filled(9))).startsWith("REFUSED").contains("at epoch 3");
        assertThat(seal.get(CheckpointService.keyName("vm1"))).isEqualTo(LAPTOP_KEY);
        assertThat(checkpoint(backup, "laptop", "vm1", 2, 2, LAPTOP_KEY)).startsWith("REJECTED")
                .contains("held by laptop at epoch 3, not by laptop at epoch 2");
        heartbeat(backup, "laptop", "vm1", 2, 2);
        assertThat(status(backup, "vm1").lastHeartbeat()).isEqualTo(beat);
        // an epoch the IT center never granted is refused too (it would lock the real epochs out)
        assertThat(checkpoint(backup, "laptop", "vm1", 3, 7, LAPTOP_KEY)).startsWith("REJECTED");
        assertThat(backup.stored()).singleElement().extracting(c -> c.epoch()).isEqualTo(2L);
        // at the current epoch it goes on
        assertThat(checkpoint(backup, "laptop", "vm1", 4, 3, LAPTOP_KEY)).isEqualTo("OK");
        assertThat(backup.stored()).singleElement().extracting(c -> c.sequence()).isEqualTo(4L);
    }

    // ------------------------------------------------------------ the end of a protection (DISABLE)

    private Path pairing(String vm) {
        return tmp.resolve("backup-work").resolve("pairings").resolve(vm + ".properties");
    }

    @Test
    void aDisableFromAnotherAgentOrAtAStaleEpochIsRefusedAndChangesNothing() throws Exception {
        CheckpointService backup = protectedByLaptop();
        Instant beat = status(backup, "vm1").lastHeartbeat();
        // eve: enrolled, not vm1's paired primary; at the lease's epoch, at another, and holding the lease itself
        assertThat(disable(backup, "eve", "vm1", 2)).startsWith("REFUSED").contains("paired with laptop");
        lease("vm1", "eve", 3);
        assertThat(disable(backup, "eve", "vm1", 3)).startsWith("REFUSED").contains("paired with laptop");
        releasedLease("vm1", 3);
        assertThat(disable(backup, "eve", "vm1", 3)).startsWith("REFUSED").contains("paired with laptop");
        // the paired primary itself, at an epoch it no longer holds (the lease moved on) or never held
        lease("vm1", "laptop", 4);
        assertThat(disable(backup, "laptop", "vm1", 2)).startsWith("REFUSED").contains("at epoch 4");
        assertThat(disable(backup, "laptop", "vm1", 9)).startsWith("REFUSED");
        // a VM nobody paired: nothing to forget, refused
        lease("vm2", "eve", 1);
        assertThat(disable(backup, "eve", "vm2", 1)).startsWith("REFUSED").contains("no primary is paired");

        // vm1 is protected as before: key, checkpoint, pairing and failure detection untouched
        assertThat(seal.get(CheckpointService.keyName("vm1"))).isEqualTo(LAPTOP_KEY);
        assertThat(backup.stored()).singleElement().extracting(c -> c.sequence()).isEqualTo(1L);
        assertThat(pairing("vm1")).exists();
        assertThat(status(backup, "vm1").role()).isEqualTo(CheckpointStatus.Role.BACKUP);
        assertThat(status(backup, "vm1").lastHeartbeat()).isEqualTo(beat);
        awaitAudit("checkpoint.refused", "DISABLE for vm1 from eve");
        awaitAudit("checkpoint.refused", "DISABLE for vm1 from laptop");
        assertThat(audit).noneMatch(a -> a.contains("checkpoint.forgotten"));
    }

    @Test
    void thePairedPrimarysDisableMakesTheBackupForgetTheVm() throws Exception {
        CheckpointService backup = protectedByLaptop();
        assertThat(disable(backup, "laptop", "vm1", 2)).isEqualTo("OK");
        assertThat(status(backup, "vm1")).as("no longer watched").isNull();
        assertThat(backup.stored()).isEmpty();
        assertThat(seal.list()).doesNotContain(CheckpointService.keyName("vm1"));
        assertThat(pairing("vm1")).doesNotExist();
        awaitAudit("checkpoint.forgotten", "disabled");
        // its heartbeats and checkpoints are dropped now; nothing to recover
        heartbeat(backup, "laptop", "vm1", 2, 1);
        assertThat(status(backup, "vm1")).isNull();
        assertThat(checkpoint(backup, "laptop", "vm1", 2, 2, LAPTOP_KEY)).startsWith("REJECTED");
        assertThatThrownBy(() -> backup.recover("vm1", "h", io.ferry.api.checkpoint.RecoveryListener.NONE))
                .isInstanceOf(CheckpointException.class).hasMessageContaining("no complete checkpoint");
        // enabled again (a new lease epoch): the lease holder's KEY pairs anew
        lease("vm1", "laptop", 3);
        assertThat(key(backup, "laptop", "vm1", 3, filled(8))).isEqualTo("OK");
        assertThat(pairing("vm1")).exists();
        assertThat(checkpoint(backup, "laptop", "vm1", 1, 3, filled(8))).isEqualTo("OK");

        // the primary that released the lease first (as disable does) is still heard at that epoch
        releasedLease("vm1", 3);
        assertThat(disable(backup, "laptop", "vm1", 3)).isEqualTo("OK");
        assertThat(backup.stored()).isEmpty();
        assertThat(itCenterWrites).isEmpty();
    }

    @Test
    void aBackupThatMissedTheDisableFindsTheLeaseReleasedAndForgetsInsteadOfRecovering() throws Exception {
        CheckpointService backup = protectedByLaptop();
        // the primary disabled protection while this backup was cut off: it released the lease at epoch 2
        releasedLease("vm1", 2);
        assertThatThrownBy(() -> backup.recover("vm1", "h", io.ferry.api.checkpoint.RecoveryListener.NONE))
                .isInstanceOf(CheckpointException.class).hasMessageContaining("no longer protected")
                .extracting(e -> ((CheckpointException) e).reason()).isEqualTo(CheckpointException.Reason.NOT_FOUND);
        assertThat(itCenterWrites).as("no takeover asked for").isEmpty();
        assertThat(backup.stored()).isEmpty();
        assertThat(status(backup, "vm1")).isNull();
        assertThat(pairing("vm1")).doesNotExist();
    }

    @Test
    void aLeaseAtAnEpochTheBackupNeverProtectedIsNotTakenOver() throws Exception {
        CheckpointService backup = protectedByLaptop();
        // disabled and enabled again without reaching this backup: the lease is at epoch 3 now, expired
        expiredLease("vm1", "laptop", 3);
        assertThatThrownBy(() -> backup.recover("vm1", "h", io.ferry.api.checkpoint.RecoveryListener.NONE))
                .isInstanceOf(CheckpointException.class).hasMessageContaining("protects epoch 2")
                .extracting(e -> ((CheckpointException) e).reason()).isEqualTo(CheckpointException.Reason.FENCED);
        assertThat(itCenterWrites).isEmpty();
        assertThat(backup.stored()).singleElement().extracting(c -> c.sequence()).isEqualTo(1L);
        // at the epoch it protects, an expired lease is taken over (here the fake IT center refuses the write)
        expiredLease("vm1", "laptop", 2);
        assertThatThrownBy(() -> backup.recover("vm1", "h", io.ferry.api.checkpoint.RecoveryListener.NONE))
                .isInstanceOf(CheckpointException.class);
        assertThat(itCenterWrites).containsExactly("POST leases/vm1/transfer");
    }
}
