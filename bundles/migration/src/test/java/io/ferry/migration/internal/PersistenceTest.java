package io.ferry.migration.internal;

import static io.ferry.migration.internal.TestAgent.UUID;
import static io.ferry.migration.internal.TestAgent.VM;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.ferry.api.attestation.AttestationException;
import io.ferry.api.channel.AgentCredentials;
import io.ferry.api.channel.Channel;
import io.ferry.api.hypervisor.DomainState;
import io.ferry.api.migration.Cause;
import io.ferry.api.migration.MigrationOutcome;
import io.ferry.api.migration.Phase;
import io.ferry.channel.testing.TestPki;
import io.ferry.migration.internal.Wire.Message;
import io.ferry.migration.internal.Wire.Offer;
import io.ferry.migration.internal.Wire.Reply;
import io.ferry.migration.internal.Wire.Type;

/**
 * Used session ids and the history survive an agent restart (the state folder), the files' edge cases, and a closing
 * engine writes nothing there after close returned.
 */
class PersistenceTest {

    private static final String SESSION = "fedcba9876543210fedcba9876543210";

    @TempDir
    Path state;
    TestPki pki;
    AgentCredentials homeCredentials;
    TestAgent source;
    TestAgent target;

    @BeforeEach
    void setUp() throws Exception {
        pki = new TestPki("IT center");
        homeCredentials = pki.agent("home");
        source = new TestAgent("laptop", pki.agent("laptop"), TestAgent.limits(), DomainState.RUNNING);
        target = new TestAgent("home", homeCredentials, TestAgent.limits(), null, state);
    }

    @AfterEach
    void tearDown() throws Exception {
        source.close();
        target.close();
    }

    /** The target restarts: closed abruptly, a new engine on the same state folder (a new port too). */
    private void restartTarget() throws Exception {
        target.close();
        target = new TestAgent("home", homeCredentials, TestAgent.limits(), null, state);
    }

    private Message offer(String session) throws Exception {
        try (Channel c = source.channels.open(target.address(), SecureMigrations.PURPOSE, Duration.ofSeconds(5))) {
            source.attestation.attestEachOther(c, Duration.ofSeconds(5));
            Wire.write(c.output(), new Offer(session, VM, UUID, "alice", "header.payload.signature", "host-laptop",
                    "trusted"));
            Message answer = Wire.read(c.input());
            if (answer.type() == Type.ACCEPT) {
                Wire.write(c.output(), new Reply(Type.ABORT, session, "test over"));
            }
            return answer;
        }
    }

    /** Offers {@link #SESSION} on a thread of its own; the target may end the channel (then the offer fails). */
    private Thread offerInBackground() {
        Thread t = new Thread(() -> {
            try {
                offer(SESSION);
            } catch (Exception expected) {
                // the target stopped
            }
        }, "offering");
        t.start();
        return t;
    }

    /** A migrate-in channel for calling the target's engine directly. */
    private static Channel channelFromLaptop() {
        Channel c = mock(Channel.class);
        when(c.peerAgentId()).thenReturn("laptop");
        return c;
    }

    private void awaitHistory(int size) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 10_000;
        while (target.engine.history().size() < size) {
            assertThat(System.currentTimeMillis()).as("history of " + size).isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    @Test
    void aSessionUsedBeforeARestartIsRefusedAfterIt() throws Exception {
        assertThat(offer(SESSION).type()).isEqualTo(Type.ACCEPT);
        assertThat(Files.readString(state.resolve(MigrationStore.SESSIONS))).isEqualTo(SESSION + "\n");
        awaitHistory(1); // the aborted flight recorded before the restart, not by the old engine afterwards

        restartTarget();

        Message again = offer(SESSION);
        assertThat(again.type()).isEqualTo(Type.REFUSE);
        assertThat(((Reply) again).reason()).contains("was used already");
        // a fresh session is still accepted after the restart
        assertThat(offer("00112233445566778899aabbccddeeff").type()).isEqualTo(Type.ACCEPT);
        // restored, refused replay, aborted fresh one: all written before the test's folder is deleted
        awaitHistory(3);
    }

    @Test
    void theHistorySurvivesARestart() throws Exception {
        offer(SESSION);
        awaitHistory(1);
        List<MigrationOutcome> before = target.engine.history();
        assertThat(before.get(0).cause()).isEqualTo(Cause.ABORTED);

        restartTarget();

        assertThat(target.engine.history()).isEqualTo(before);
        offer(SESSION); // refused as a replay: recorded after the restored one
        awaitHistory(2);
        assertThat(target.engine.history().get(0).cause()).isEqualTo(Cause.TARGET_REFUSED);
        assertThat(target.engine.history().get(1)).isEqualTo(before.get(0));
    }

    // ------------------------------------------------------------------ closing: nothing written afterwards

    @Test
    void closeReturnsOnlyAfterAMigrateInInProgressRecordedItsOutcome() throws Exception {
        // the migrate-in runs on the channel server's thread, blocked in a step that does not end when the engine
        // stops its flight (closes its channel)
        CountDownLatch importing = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        when(target.policy.importPolicy(anyString(), eq(UUID))).thenAnswer(i -> {
            importing.countDown();
            release.await(10, TimeUnit.SECONDS);
            return TestAgent.signedPolicy();
        });
        Thread offering = offerInBackground();
        Thread closing = new Thread(target.engine::close, "closing");
        try {
            assertThat(importing.await(10, TimeUnit.SECONDS)).isTrue();
            closing.start();
            closing.join(500);
            assertThat(closing.isAlive()).as("close waits for the migrate-in in progress").isTrue();

            // one arriving while close waits is refused: its channel closed, nothing read, written or recorded
            Channel late = channelFromLaptop();
            assertThatCode(() -> target.engine.migrateIn(late)).doesNotThrowAnyException();
            verify(late).close();
            verify(late, never()).input();
            verify(late, never()).output();
        } finally {
            release.countDown();
        }
        closing.join(10_000);
        assertThat(closing.isAlive()).as("close returned").isFalse();

        // on disk when close returned: what a restarted engine on this folder reads
        List<MigrationOutcome> stored = new MigrationStore(state, 10, 10).history();
        assertThat(stored).singleElement().satisfies(o -> {
            assertThat(o.id()).isEqualTo(SESSION);
            assertThat(o.cause()).isEqualTo(Cause.ABORTED);
            assertThat(o.reason()).isEqualTo("this agent is stopping");
        });
        assertThat(new MigrationStore(state, 10, 10).sessions()).containsExactly(SESSION);
        assertThat(target.engine.inFlight()).isEmpty();
        offering.join(10_000);
    }

    @Test
    void aMigrateInArrivingAfterCloseIsRefusedAndWritesNothing() throws Exception {
        target.engine.close();

        // through the channel server: the source sees the channel end before any attestation
        try (Channel c = source.channels.open(target.address(), SecureMigrations.PURPOSE, Duration.ofSeconds(5))) {
            assertThatThrownBy(() -> source.attestation.attestEachOther(c, Duration.ofSeconds(5)))
                    .isInstanceOf(AttestationException.class);
        }
        assertThat(target.lastControl.get()).as("the channel reached the engine").isNotNull();
        // and called directly: returns normally, having closed the channel
        Channel late = channelFromLaptop();
        assertThatCode(() -> target.engine.migrateIn(late)).doesNotThrowAnyException();
        verify(late).close();
        verify(late, never()).input();

        assertThat(target.attestation.calls).isEmpty();
        assertThat(target.engine.history()).isEmpty();
        assertThat(target.engine.inFlight()).isEmpty();
        try (Stream<Path> files = Files.list(state)) {
            assertThat(files).as("nothing in the state folder").isEmpty();
        }
    }

    @Test
    void aTornLastLineIsSkippedAndTheRestIsRead() throws Exception {
        MigrationStore store = new MigrationStore(state.resolve("s"), 10, 10);
        MigrationOutcome o = outcome("a", "reason with spaces, ünïcode and\nnew line");
        store.record(o, () -> List.of(o));
        store.useSession(SESSION, List::of);
        Files.writeString(state.resolve("s").resolve(MigrationStore.HISTORY), "=b =vm", StandardOpenOption.APPEND);
        Files.writeString(state.resolve("s").resolve(MigrationStore.SESSIONS), "0123", StandardOpenOption.APPEND);

        MigrationStore reopened = new MigrationStore(state.resolve("s"), 10, 10);
        assertThat(reopened.history()).containsExactly(o);
        assertThat(reopened.sessions()).containsExactly(SESSION);
    }

    @Test
    void theFilesAreCompactedToTheirLimits() throws Exception {
        MigrationStore store = new MigrationStore(state.resolve("c"), 3, 2);
        List<MigrationOutcome> newestFirst = new ArrayList<>();
        List<String> sessions = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            MigrationOutcome o = outcome("m" + i, "r" + i);
            newestFirst.add(0, o);
            store.record(o, () -> newestFirst.subList(0, Math.min(2, newestFirst.size())));
            String s = String.format("%032x", i);
            sessions.add(s);
            store.useSession(s, () -> sessions.subList(Math.max(0, sessions.size() - 3), sessions.size()));
        }
        List<String> lines = Files.readAllLines(state.resolve("c").resolve(MigrationStore.HISTORY),
                StandardCharsets.UTF_8);
        assertThat(lines.size()).isLessThan(4);
        MigrationStore reopened = new MigrationStore(state.resolve("c"), 3, 2);
        assertThat(reopened.history()).extracting(MigrationOutcome::id).containsExactly("m6", "m5");
        assertThat(reopened.sessions()).containsExactly(String.format("%032x", 4), String.format("%032x", 5),
                String.format("%032x", 6));
    }

    private static MigrationOutcome outcome(String id, String reason) {
        Instant t = Instant.parse("2026-11-27T18:00:00.123Z");
        return new MigrationOutcome(id, "vm 1", "home@127.0.0.1:7443", null, Cause.CHANNEL, Phase.TRANSFER, reason,
                true, t, t.plusMillis(1500), 10, -1, -1, -1, 2048);
    }
}
