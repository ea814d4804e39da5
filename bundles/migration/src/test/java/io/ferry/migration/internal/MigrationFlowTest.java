package io.ferry.migration.internal;

import static io.ferry.migration.internal.TestAgent.UUID;
import static io.ferry.migration.internal.TestAgent.VM;
import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.ArgumentMatchers.argThat;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.timeout;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.ferry.api.channel.Channel;
import io.ferry.api.hypervisor.DomainState;
import io.ferry.api.hypervisor.HypervisorException;
import io.ferry.api.hypervisor.JobStats;
import io.ferry.api.hypervisor.MigrationOptions;
import io.ferry.api.hypervisor.MigrationResult;
import io.ferry.api.migration.Cause;
import io.ferry.api.migration.MigrationOutcome;
import io.ferry.api.migration.MigrationProgress;
import io.ferry.api.migration.MigrationRequest;
import io.ferry.api.migration.Phase;
import io.ferry.api.policy.Direction;
import io.ferry.api.policy.PolicyException;
import io.ferry.api.protection.IntegrityCheck;

/**
 * The migrate-out and migrate-in flows between two agents with real TLS channels and mocked
 * surroundings. Every failure before the target's confirmation must leave the VM running on the
 * source (libvirt's job aborted or never started) and no domain on the target.
 */
class MigrationFlowTest extends FlowFixture {

    private final CountDownLatch aborted = new CountDownLatch(1);

    @BeforeEach
    void setUp() throws Exception {
        startAgents(TestAgent.limits());
        when(source.hypervisor.abortJob(VM)).thenAnswer(i -> {
            aborted.countDown();
            return true;
        });
    }

    /** libvirt's job runs (the target holds a paused incoming domain) until it is aborted, then fails. */
    private void libvirtRunsUntilAborted(Runnable during) {
        when(source.hypervisor.migrate(eq(VM), anyString(), any(), any())).thenAnswer(inv -> {
            roundTripThroughRelay(inv.getArgument(1));
            target.vmState = DomainState.PAUSED;
            during.run();
            if (!aborted.await(10, TimeUnit.SECONDS)) {
                throw new AssertionError("the libvirt job was never aborted");
            }
            throw new HypervisorException("migrate", VM, "migrate vm1 on host-laptop: operation aborted: job "
                    + "'migration out' canceled by client; the domain keeps running on host-laptop");
        });
    }

    private void assertVmStayedOnSource(MigrationOutcome o) {
        assertThat(o.succeeded()).isFalse();
        assertThat(o.runsOnSource()).as(o.reason()).isTrue();
        assertThat(source.vmState).isEqualTo(DomainState.RUNNING);
        verify(source.hypervisor, never()).undefine(VM);
        await(() -> target.vmState == null, "the target removed its partial domain");
        assertThat(source.engine.inFlight()).isEmpty();
        await(() -> target.engine.inFlight().isEmpty(), "the target ended its migrate-in");
    }

    // ------------------------------------------------------------------------------ success

    @Test
    void anAllowedMigrationMovesTheVmAndTheTargetConfirmsIt() {
        libvirtSucceeds();

        MigrationOutcome o = migrate();

        assertThat(o.succeeded()).as(o.reason()).isTrue();
        assertThat(o.cause()).isEqualTo(Cause.NONE);
        assertThat(o.phase()).isEqualTo(Phase.DONE);
        assertThat(o.runsOnSource()).isFalse();
        assertThat(o.downtimeMillis()).isEqualTo(40);
        assertThat(o.bytesTransferred()).isEqualTo(1000);
        assertThat(o.bytesCarried()).isGreaterThanOrEqualTo(22);
        assertThat(o.preparationMillis()).isBetween(0L, o.totalMillis());
        assertThat(target.fakeLibvirtd.connections()).isEqualTo(1);
        // mutual attestation, both sides at once
        assertThat(source.attestation.calls).containsExactly("attestEachOther");
        assertThat(target.attestation.calls).containsExactly("attestEachOther");
        // the target validated the VM's own policy for that UUID and decided migrate-in
        verify(target.policy).importPolicy("header.payload.signature", UUID);
        verify(target.policy).decide(argThat(r -> r.direction() == Direction.IN && r.user().equals("alice")
                && r.source().name().equals("laptop") && "trusted".equals(r.source().level())));
        verify(source.policy).decide(argThat(r -> r.direction() == Direction.OUT
                && r.target().name().equals("home") && "trusted".equals(r.target().level())));
        verify(source.protection).check("host-laptop", VM);
        // progress went through the phases in order and carried libvirt's figures
        List<Phase> phases = progress.stream().map(MigrationProgress::phase).distinct().toList();
        assertThat(phases).containsSubsequence(Phase.POLICY, Phase.CHANNEL, Phase.ATTESTATION, Phase.PROTECTION,
                Phase.HANDOVER, Phase.TRANSFER, Phase.CONFIRMATION, Phase.CLEANUP, Phase.DONE);
        assertThat(progress).anySatisfy(p -> {
            assertThat(p.percent()).isEqualTo(50);
            assertThat(p.bytesPerSecond()).isEqualTo(2_000_000);
            assertThat(p.remainingBytes()).isEqualTo(500);
            assertThat(p.dirtyPagesPerSecond()).isEqualTo(42);
        });
        assertThat(source.engine.history()).first().isEqualTo(o);
        // libvirt was asked to keep the source's definition; it went only after the target confirmed
        verify(source.hypervisor).migrate(eq(VM), anyString(), argThat(MigrationOptions::keepSourceDefinition), any());
        verify(source.hypervisor).undefine(VM);
        assertThat(source.vmState).isNull();
        assertThat(progress).filteredOn(p -> p.phase() == Phase.CLEANUP).isNotEmpty();
        await(() -> !target.engine.history().isEmpty(), "the target recorded the migrate-in");
        MigrationOutcome in = target.engine.history().get(0);
        assertThat(in.succeeded()).as(in.reason()).isTrue();
        assertThat(in.id()).isEqualTo(o.id());
        verify(source.itCenter, timeout(5000)).call(eq("POST"), eq("audit"),
                argThat(json -> json.contains("\"kind\":\"migration.out.completed\"") && json.contains("\"vm\":\"vm1\"")),
                any());
    }

    // ------------------------------------------------------------------------------ refusals

    @Test
    void aPolicyThatDeniesTheUserRefusesBeforeAnyChannelOpens() {
        when(source.policy.check(any())).thenReturn(TestAgent.deny("no-guests", "bob may not move vm1"));
        when(source.policy.decide(any())).thenReturn(TestAgent.deny("no-guests", "bob may not move vm1"));

        MigrationOutcome o = migrate(MigrationRequest.of(VM, target.address(), "bob"));

        assertThat(o.cause()).isEqualTo(Cause.POLICY);
        assertThat(o.refused()).isTrue();
        assertThat(o.reason()).contains("rule 'no-guests'").contains("bob may not move vm1");
        assertThat(o.phase()).isEqualTo(Phase.POLICY);
        assertVmStayedOnSource(o);
        verify(source.hypervisor, never()).migrate(any(), any(), any(), any());
        assertThat(target.lastControl.get()).as("no channel was opened").isNull();
    }

    @Test
    void aLowVerdictOnTheTargetIsRefusedByThePolicyWithTheLevelNamed() {
        source.attestation.verdictOnPeer = TestAgent.verdict("untrusted", true);
        when(source.policy.decide(argThat(r -> r != null && "untrusted".equals(r.target().level()))))
                .thenReturn(TestAgent.deny("min-level", "the target's level untrusted is below trusted"));

        MigrationOutcome o = migrate();

        assertThat(o.cause()).isEqualTo(Cause.POLICY);
        assertThat(o.reason()).contains("rule 'min-level'").contains("rates home 'untrusted'");
        assertThat(o.phase()).isEqualTo(Phase.ATTESTATION);
        assertVmStayedOnSource(o);
        verify(source.hypervisor, never()).migrate(any(), any(), any(), any());
        verify(target.policy, never()).importPolicy(anyString(), anyString());
    }

    @Test
    void evidenceThatIsNotGenuineIsRefusedWithTheFinding() {
        source.attestation.verdictOnPeer = new io.ferry.api.attestation.Verdict("untrusted", false,
                List.of(new io.ferry.api.attestation.Reason(io.ferry.api.attestation.Reason.Code.BAD_SIGNATURE, null,
                        "the quote's signature does not verify")), List.of(), List.of());

        MigrationOutcome o = migrate();

        assertThat(o.cause()).isEqualTo(Cause.ATTESTATION);
        assertThat(o.reason()).contains("not genuine").contains("BAD_SIGNATURE");
        assertVmStayedOnSource(o);
        verify(source.hypervisor, never()).migrate(any(), any(), any(), any());
    }

    @Test
    void theTargetRefusesASourceWithALowVerdict() {
        target.attestation.verdictOnPeer = TestAgent.verdict("untrusted", true);
        when(target.policy.decide(argThat(r -> r != null && r.direction() == Direction.IN)))
                .thenReturn(TestAgent.deny("trusted-sources", "the source's level untrusted is below measured"));

        MigrationOutcome o = migrate();

        assertThat(o.cause()).isEqualTo(Cause.TARGET_REFUSED);
        assertThat(o.reason()).contains("home refused vm1").contains("rule 'trusted-sources'");
        assertVmStayedOnSource(o);
        verify(source.hypervisor, never()).migrate(any(), any(), any(), any());
    }

    @Test
    void aChangedVmIsRefusedByTheProtectionCheck() {
        when(source.protection.check("host-laptop", VM)).thenReturn(new IntegrityCheck(VM,
                IntegrityCheck.Status.CHANGED, List.of("kernel text page 0x1000 changed"), Instant.now()));

        MigrationOutcome o = migrate();

        assertThat(o.cause()).isEqualTo(Cause.PROTECTION);
        assertThat(o.reason()).contains("not find it intact (changed)").contains("kernel text page 0x1000 changed");
        assertVmStayedOnSource(o);
        verify(source.hypervisor, never()).migrate(any(), any(), any(), any());
    }

    @Test
    void aProtectionServiceBeingSwappedIsWaitedForAndTheWaitIsReported() throws Exception {
        libvirtSucceeds();
        var successor = source.protection;
        source.protection = null;
        Thread swap = new Thread(() -> {
            try {
                Thread.sleep(400);
            } catch (InterruptedException ignored) {
                return;
            }
            source.protection = successor;
        });

        MigrationOutcome o = source.engine.migrateOut(MigrationRequest.of(VM, target.address(), "alice"), p -> {
            progress.add(p);
            if (p.note().startsWith("waiting") && !swap.isAlive()) {
                swap.start(); // the successor arrives while the migration waits for it
            }
        });

        assertThat(o.succeeded()).as(o.reason()).isTrue();
        assertThat(progress).anySatisfy(p -> {
            assertThat(p.phase()).isEqualTo(Phase.PROTECTION);
            assertThat(p.note()).contains("waiting up to 2 s for the hypervisor protection service");
        });
        verify(successor).check("host-laptop", VM);
    }

    @Test
    void noProtectionServiceWithinTheWaitRefuses() {
        source.protection = null;

        MigrationOutcome o = migrate();

        assertThat(o.cause()).isEqualTo(Cause.PROTECTION);
        assertThat(o.reason()).contains("no hypervisor protection service within 2 s");
        assertVmStayedOnSource(o);
    }

    @Test
    void theIntegrityCheckRunsWhileTheTargetIsAttested() {
        libvirtSucceeds();
        CountDownLatch checking = new CountDownLatch(1);
        when(source.protection.check("host-laptop", VM)).thenAnswer(i -> {
            checking.countDown();
            return new IntegrityCheck(VM, IntegrityCheck.Status.INTACT, List.of(), Instant.now());
        });
        // the source attests the target only once the check has begun: a flow that checked after the
        // attestation would wait here in vain and fail
        source.attestation.beforeAttesting = () -> {
            try {
                if (!checking.await(5, TimeUnit.SECONDS)) {
                    throw new io.ferry.api.attestation.AttestationException("the integrity check did not run alongside");
                }
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        };

        MigrationOutcome o = migrate();

        assertThat(o.succeeded()).as(o.reason()).isTrue();
        verify(source.protection, times(1)).check("host-laptop", VM);
        List<Phase> phases = progress.stream().map(MigrationProgress::phase).distinct().toList();
        assertThat(phases).containsSubsequence(Phase.ATTESTATION, Phase.PROTECTION, Phase.HANDOVER, Phase.TRANSFER);
    }

    @Test
    void aChangedVmFoundAfterTheAttestationIsStillRefusedBeforeTheOffer() {
        when(source.protection.check("host-laptop", VM)).thenAnswer(i -> {
            Thread.sleep(600); // longer than the channel and the attestation together
            return new IntegrityCheck(VM, IntegrityCheck.Status.CHANGED, List.of("kernel text page 0x2000 changed"),
                    Instant.now());
        });

        MigrationOutcome o = migrate();

        assertThat(o.cause()).isEqualTo(Cause.PROTECTION);
        assertThat(o.phase()).isEqualTo(Phase.PROTECTION);
        assertThat(o.reason()).contains("kernel text page 0x2000 changed");
        assertVmStayedOnSource(o);
        assertThat(source.attestation.calls).contains("attestEachOther"); // it waited for the check
        verify(source.hypervisor, never()).migrate(any(), any(), any(), any());
        verify(target.policy, never()).importPolicy(anyString(), anyString()); // the target never got an offer
        assertThat(progress).noneMatch(p -> p.phase() == Phase.HANDOVER || p.phase() == Phase.TRANSFER);
    }

    @Test
    void anEarlyIntegrityCheckThatFailsIsAskedAgain() {
        libvirtSucceeds();
        when(source.protection.check("host-laptop", VM))
                .thenThrow(new IllegalStateException("the protection bundle is being updated"))
                .thenReturn(new IntegrityCheck(VM, IntegrityCheck.Status.INTACT, List.of(), Instant.now()));

        MigrationOutcome o = migrate();

        assertThat(o.succeeded()).as(o.reason()).isTrue();
        verify(source.protection, times(2)).check("host-laptop", VM);
    }

    @Test
    void theTargetRefusesAPolicyThatIsNotTheVmsOwn() {
        when(target.policy.importPolicy(anyString(), eq(UUID))).thenThrow(
                new PolicyException(PolicyException.Reason.WRONG_VM, "the policy is for vm2, not " + UUID));

        MigrationOutcome o = migrate();

        assertThat(o.cause()).isEqualTo(Cause.TARGET_REFUSED);
        assertThat(o.reason()).contains("does not accept the VM's policy (wrong vm)").contains("for vm2");
        assertVmStayedOnSource(o);
        verify(source.hypervisor, never()).migrate(any(), any(), any(), any());
    }

    @Test
    void aTargetThatHasTheDomainAlreadyRefuses() {
        target.vmState = DomainState.SHUTOFF;

        MigrationOutcome o = migrate();

        assertThat(o.cause()).isEqualTo(Cause.TARGET_REFUSED);
        assertThat(o.reason()).contains("exists already on the target");
        assertThat(o.runsOnSource()).isTrue();
        assertThat(target.vmState).as("the target's own domain is left alone").isEqualTo(DomainState.SHUTOFF);
        verify(target.hypervisor, never()).undefine(VM);
    }

    @Test
    void aVmThatIsNotRunningIsNotMigrated() {
        source.vmState = DomainState.SHUTOFF;

        MigrationOutcome o = migrate();

        assertThat(o.cause()).isEqualTo(Cause.INVALID);
        assertThat(o.reason()).contains("not running");
    }

    // ------------------------------------------------------------------------------ cut channel, agent gone

    @Test
    void aChannelCutDuringAttestationLeavesTheVmOnTheSource() {
        target.attestation.cutWhenAnswering = true;

        MigrationOutcome o = migrate();

        assertThat(o.cause()).isEqualTo(Cause.ATTESTATION);
        assertThat(o.phase()).isEqualTo(Phase.ATTESTATION);
        assertVmStayedOnSource(o);
        verify(source.hypervisor, never()).migrate(any(), any(), any(), any());
    }

    @Test
    void aChannelCutDuringTheHandoverLeavesTheVmOnTheSource() {
        when(target.policy.importPolicy(anyString(), eq(UUID))).thenAnswer(i -> {
            target.lastControl.get().close();
            throw new PolicyException(PolicyException.Reason.STORAGE, "gone");
        });

        MigrationOutcome o = migrate();

        assertThat(o.cause()).isEqualTo(Cause.CHANNEL);
        assertThat(o.phase()).isEqualTo(Phase.HANDOVER);
        assertVmStayedOnSource(o);
        verify(source.hypervisor, never()).migrate(any(), any(), any(), any());
    }

    @Test
    void aChannelCutDuringTheTransferAbortsLibvirtAndTheTargetRemovesItsPartialDomain() {
        libvirtRunsUntilAborted(() -> close(target.lastControl.get()));

        MigrationOutcome o = migrate();

        assertThat(o.cause()).isEqualTo(Cause.CHANNEL);
        assertThat(o.phase()).isEqualTo(Phase.TRANSFER);
        assertThat(o.reason()).contains("control channel");
        assertThat(aborted.getCount()).isZero();
        assertVmStayedOnSource(o);
        verify(target.hypervisor, timeout(5000)).stop(VM, true);
        verify(target.hypervisor, timeout(5000)).undefine(VM);
    }

    @Test
    void aTargetAgentThatDiesDuringTheTransferLeavesTheVmOnTheSource() {
        libvirtRunsUntilAborted(() -> {
            target.channels.close(); // no new channels
            close(target.lastControl.get()); // and the running one dies with the agent
        });

        MigrationOutcome o = migrate();

        assertThat(o.cause()).isEqualTo(Cause.CHANNEL);
        assertVmStayedOnSource(o);
    }

    @Test
    void aSourceCopyLibvirtLeftPausedIsNotClaimedNorResumed() {
        // the link broke in libvirt's Finish phase: the target runs the VM, the source's copy stays paused
        libvirtRunsUntilAborted(() -> {
            source.vmState = DomainState.PAUSED;
            source.engine.abort(VM);
        });

        MigrationOutcome o = migrate();

        assertThat(o.succeeded()).isFalse();
        assertThat(o.runsOnSource()).as(o.reason()).isFalse();
        assertThat(o.reason()).contains("left PAUSED").contains("not resumed");
        verify(source.hypervisor, never()).resume(VM);
        verify(source.hypervisor, never()).undefine(VM);
    }

    @Test
    void aStoppedAgentStartsNoMigration() {
        source.engine.close();

        MigrationOutcome o = migrate();

        assertThat(o.cause()).isEqualTo(Cause.ABORTED);
        assertThat(o.reason()).contains("agent is stopping");
        assertThat(o.runsOnSource()).isTrue();
        assertThat(source.engine.inFlight()).isEmpty();
        verify(source.hypervisor, never()).migrate(anyString(), anyString(), any(), any());
        assertThat(source.engine.history()).as("nothing recorded after close").isEmpty();
    }

    @Test
    void closeReturnsOnlyAfterAMigrateOutInProgressRecordedItsOutcome() throws Exception {
        // the migrate-out runs on its caller's thread, blocked in a step that does not end when the engine stops
        // its flight (closes its channel)
        CountDownLatch deciding = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        when(source.policy.decide(any())).thenAnswer(i -> {
            deciding.countDown();
            release.await(10, TimeUnit.SECONDS);
            return TestAgent.allow();
        });
        java.util.concurrent.atomic.AtomicReference<MigrationOutcome> outcome = new java.util.concurrent.atomic.AtomicReference<>();
        Thread migrating = new Thread(() -> outcome.set(migrate()), "migrating");
        migrating.start();
        Thread closing = new Thread(source.engine::close, "closing");
        try {
            assertThat(deciding.await(10, TimeUnit.SECONDS)).isTrue();
            closing.start();
            closing.join(500);
            assertThat(closing.isAlive()).as("close waits for the migrate-out in progress").isTrue();
        } finally {
            release.countDown();
        }
        closing.join(10_000);
        assertThat(closing.isAlive()).as("close returned").isFalse();

        assertThat(source.engine.history()).as("recorded when close returned").singleElement()
                .satisfies(o -> assertThat(o.cause()).isEqualTo(Cause.ABORTED));
        migrating.join(10_000);
        assertThat(outcome.get()).isEqualTo(source.engine.history().get(0));
        assertVmStayedOnSource(outcome.get());
    }

    @Test
    void aSourceAgentThatStopsDuringTheTransferAbortsAndTheTargetCleansUp() {
        libvirtRunsUntilAborted(() -> new Thread(source.engine::close).start());

        MigrationOutcome o = migrate();

        assertThat(o.cause()).isEqualTo(Cause.ABORTED);
        assertThat(o.reason()).contains("agent is stopping");
        assertVmStayedOnSource(o);
    }

    @Test
    void aLibvirtErrorLeavesTheVmOnTheSourceAndTheTargetCleansUp() {
        when(source.hypervisor.migrate(eq(VM), anyString(), any(), any())).thenAnswer(inv -> {
            target.vmState = DomainState.PAUSED;
            throw new HypervisorException("migrate", VM, "migrate vm1 on host-laptop: internal error: qemu "
                    + "unexpectedly closed the monitor; the domain keeps running on host-laptop");
        });

        MigrationOutcome o = migrate();

        assertThat(o.cause()).isEqualTo(Cause.LIBVIRT);
        assertThat(o.reason()).contains("qemu unexpectedly closed the monitor");
        assertVmStayedOnSource(o);
        await(() -> !target.engine.history().isEmpty(), "the target recorded the failed migrate-in");
        assertThat(target.engine.history().get(0).reason()).contains("aborted");
    }

    @Test
    void aMigrationThatTakesTooLongTimesOutAndIsAborted() {
        libvirtRunsUntilAborted(() -> { });

        MigrationOutcome o = migrate(new MigrationRequest(VM, null, target.address(), "alice", null,
                Duration.ofMillis(1500)));

        assertThat(o.cause()).isEqualTo(Cause.TIMEOUT);
        assertThat(o.reason()).contains("did not finish within 1500 ms");
        assertVmStayedOnSource(o);
    }

    @Test
    void anAbortOnRequestStopsTheTransfer() {
        libvirtRunsUntilAborted(() -> {
            assertThat(source.engine.inFlight()).singleElement()
                    .satisfies(s -> assertThat(s.progress().phase()).isEqualTo(Phase.TRANSFER));
            assertThat(source.engine.abort(VM)).isTrue();
        });

        MigrationOutcome o = migrate();

        assertThat(o.cause()).isEqualTo(Cause.ABORTED);
        assertThat(o.reason()).isEqualTo("aborted on request");
        assertVmStayedOnSource(o);
        assertThat(source.engine.abort(VM)).as("nothing left to abort").isFalse();
    }

    @Test
    void aVmBeingMigratedIsNotMigratedTwiceAtOnce() {
        java.util.concurrent.atomic.AtomicReference<MigrationOutcome> second = new java.util.concurrent.atomic.AtomicReference<>();
        libvirtRunsUntilAborted(() -> {
            second.set(migrate());
            source.engine.abort(VM);
        });

        MigrationOutcome first = migrate();

        assertThat(second.get().cause()).isEqualTo(Cause.INVALID);
        assertThat(second.get().reason()).contains("is being migrated already");
        assertThat(first.cause()).isEqualTo(Cause.ABORTED);
        assertVmStayedOnSource(first);
    }

    @Test
    void aTargetThatDoesNotFindTheVmRunningDoesNotConfirm() {
        when(source.hypervisor.migrate(eq(VM), anyString(), any(), any())).thenAnswer(inv -> {
            source.vmState = DomainState.SHUTOFF;
            target.vmState = DomainState.PAUSED; // libvirt said done, but the VM does not run there
            return new MigrationResult(VM, inv.getArgument(1), 150, JobStats.NONE);
        });

        MigrationOutcome o = migrate();

        assertThat(o.cause()).isEqualTo(Cause.UNCONFIRMED);
        assertThat(o.reason()).contains("did not confirm").contains("paused here");
        assertThat(o.runsOnSource()).isFalse();
        // without the target's confirmation the source keeps its definition (the owner can start it again)
        verify(source.hypervisor, never()).undefine(VM);
        assertThat(source.vmState).isEqualTo(DomainState.SHUTOFF);
    }

    private static void close(Channel c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // closed already
        }
    }
}
