package io.ferry.migration.internal;

import static io.ferry.migration.internal.TestAgent.VM;
import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import io.ferry.api.migration.Cause;
import io.ferry.api.migration.MigrationOutcome;
import io.ferry.api.migration.Phase;
import io.ferry.api.protection.HypervisorProtection;
import io.ferry.api.protection.IntegrityCheck;
import io.ferry.api.protection.IntegrityCheck.Status;

/**
 * The source relies on hypervisor protection's own latest result of the VM when it is young enough
 * ({@code protection.max.age.ms}), and checks the VM now otherwise. Whatever it relies on, a VM found changed is
 * refused before the target hears of it.
 */
class ProtectionResultTest extends FlowFixture {

    private static final String HOST = "host-laptop";

    private void agents(Duration maxAge) throws Exception {
        MigrationEngine.Limits l = TestAgent.limits();
        startAgents(new MigrationEngine.Limits(l.host(), l.control(), l.timeout(), l.maxDowntime(),
                l.protectionWait(), true, l.historySize(), l.partialGrace(), maxAge));
        libvirtSucceeds();
    }

    private static IntegrityCheck result(Status status, Duration ago, String... findings) {
        return new IntegrityCheck(VM, status, List.of(findings), Instant.now().minus(ago));
    }

    private void latest(IntegrityCheck c) {
        when(source.protection.latest(HOST, VM)).thenReturn(Optional.ofNullable(c));
    }

    private boolean reliedOnLatest() {
        return progress.stream().anyMatch(p -> p.phase() == Phase.PROTECTION
                && p.note().contains(MigrationEngine.YOUNG_RESULT_NOTE));
    }

    private void assertRefusedBeforeTheOffer(MigrationOutcome o, String finding) {
        assertThat(o.succeeded()).isFalse();
        assertThat(o.cause()).isEqualTo(Cause.PROTECTION);
        assertThat(o.reason()).contains("not find it intact (changed)").contains(finding);
        assertThat(o.runsOnSource()).isTrue();
        verify(source.hypervisor, never()).migrate(any(), any(), any(), any());
        verify(target.policy, never()).importPolicy(anyString(), anyString()); // the target never got an offer
        assertThat(progress).noneMatch(p -> p.phase() == Phase.HANDOVER || p.phase() == Phase.TRANSFER);
        await(() -> target.engine.inFlight().isEmpty(), "the target ended its migrate-in");
    }

    @Test
    void aYoungIntactResultIsReliedOnAndNothingIsMeasuredNow() throws Exception {
        agents(Duration.ofSeconds(5));
        latest(result(Status.INTACT, Duration.ofSeconds(1)));

        MigrationOutcome o = migrate();

        assertThat(o.succeeded()).as(o.reason()).isTrue();
        verify(source.protection, never()).check(anyString(), anyString());
        assertThat(reliedOnLatest()).isTrue();
    }

    @Test
    void aResultOlderThanTheBoundIsNotReliedOnTheVmIsCheckedNow() throws Exception {
        agents(Duration.ofSeconds(5));
        latest(result(Status.INTACT, Duration.ofSeconds(6)));

        MigrationOutcome o = migrate();

        assertThat(o.succeeded()).as(o.reason()).isTrue();
        verify(source.protection, times(1)).check(HOST, VM);
        assertThat(reliedOnLatest()).isFalse();
    }

    @Test
    void aResultOlderThanHalfTheBoundStartsACheckAlongsideTheAttestation() throws Exception {
        // young enough now, but perhaps not at the handover: the flow does not risk a check after the attestation
        agents(Duration.ofSeconds(5));
        latest(result(Status.INTACT, Duration.ofSeconds(3)));

        MigrationOutcome o = migrate();

        assertThat(o.succeeded()).as(o.reason()).isTrue();
        verify(source.protection, times(1)).check(HOST, VM);
        assertThat(reliedOnLatest()).isFalse();
    }

    @Test
    void aResultThatAgedPastTheBoundDuringTheAttestationIsNotReliedOnTheVmIsCheckedNow() throws Exception {
        // young enough at the start (a quarter of the bound) and looked up again while the attestation runs, which
        // here takes longer than the bound: at the handover it is too old, and the VM is checked then
        agents(Duration.ofMillis(800));
        latest(result(Status.INTACT, Duration.ofMillis(200)));
        source.attestation.beforeAttesting = () -> sleepQuietly(1000);

        MigrationOutcome o = migrate();

        assertThat(o.succeeded()).as(o.reason()).isTrue();
        verify(source.protection, times(1)).check(HOST, VM);
        assertThat(reliedOnLatest()).isFalse();
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void aFreshCheckFindingTheVmChangedRefusesEvenWithAYoungIntactResultBeforeIt() throws Exception {
        agents(Duration.ofSeconds(5));
        latest(result(Status.INTACT, Duration.ofSeconds(4)));
        when(source.protection.check(HOST, VM)).thenReturn(result(Status.CHANGED, Duration.ZERO, "kernel-text now"));

        assertRefusedBeforeTheOffer(migrate(), "kernel-text now");
    }

    @Test
    void zeroAlwaysChecksNowAndNeverAsksForTheLatestResult() throws Exception {
        agents(Duration.ZERO);
        latest(result(Status.INTACT, Duration.ZERO));

        MigrationOutcome o = migrate();

        assertThat(o.succeeded()).as(o.reason()).isTrue();
        verify(source.protection, times(1)).check(HOST, VM);
        verify(source.protection, never()).latest(anyString(), anyString());
    }

    @Test
    void aYoungChangedResultRefusesBeforeAnyChannelIsOpened() throws Exception {
        agents(Duration.ofSeconds(5));
        latest(result(Status.CHANGED, Duration.ofSeconds(4), "kernel-text (gpa 0x1000000): sha256 ab, baseline cd"));

        MigrationOutcome o = migrate();

        assertRefusedBeforeTheOffer(o, "kernel-text (gpa 0x1000000)");
        assertThat(o.phase()).isEqualTo(Phase.POLICY);
        assertThat(source.attestation.calls).isEmpty();
        assertThat(target.attestation.calls).isEmpty();
        verify(source.protection, never()).check(anyString(), anyString());
    }

    @Test
    void aChangedResultOfARoundThatBeganDuringTheFlowRefusesBeforeTheOffer() throws Exception {
        // the latest result is young and intact when the flow begins; a periodic round finds the VM changed while
        // the channel and the attestation run
        agents(Duration.ofSeconds(5));
        when(source.protection.latest(HOST, VM)).thenReturn(Optional.of(result(Status.INTACT, Duration.ofMillis(500))),
                Optional.of(result(Status.CHANGED, Duration.ZERO, "kernel-text in the last round")));

        assertRefusedBeforeTheOffer(migrate(), "kernel-text in the last round");
        verify(source.protection, never()).check(anyString(), anyString());
    }

    @Test
    void aChangedResultNewerThanTheFreshCheckRefuses() throws Exception {
        agents(Duration.ofSeconds(5));
        when(source.protection.latest(HOST, VM)).thenReturn(Optional.empty(),
                Optional.of(result(Status.CHANGED, Duration.ZERO, "kernel-text seen by a round after ours")));

        assertRefusedBeforeTheOffer(migrate(), "kernel-text seen by a round after ours");
        verify(source.protection, times(1)).check(HOST, VM);
    }

    @Test
    void unmeasuredResultsAreNotReliedOn() throws Exception {
        agents(Duration.ofSeconds(5));
        latest(result(Status.UNAVAILABLE, Duration.ZERO, "vm1 is not running"));

        MigrationOutcome o = migrate();

        assertThat(o.succeeded()).as(o.reason()).isTrue();
        verify(source.protection, times(1)).check(HOST, VM);
    }

    @Test
    void aResultFromTheFutureIsNotReliedOn() throws Exception {
        // the clock was set back: its age is unknown
        agents(Duration.ofSeconds(5));
        latest(result(Status.INTACT, Duration.ofSeconds(-60)));

        MigrationOutcome o = migrate();

        assertThat(o.succeeded()).as(o.reason()).isTrue();
        verify(source.protection, times(1)).check(HOST, VM);
        assertThat(reliedOnLatest()).isFalse();
    }

    @Test
    void aProviderWithoutResultsOrOneBeingSwappedIsCheckedNow() throws Exception {
        agents(Duration.ofSeconds(5));
        when(source.protection.latest(HOST, VM)).thenReturn(Optional.empty())
                .thenThrow(new IllegalStateException("hypervisor protection 0.1.1 is stopping: ask its successor"));

        MigrationOutcome o = migrate();

        assertThat(o.succeeded()).as(o.reason()).isTrue();
        verify(source.protection, times(1)).check(HOST, VM);
    }

    @Test
    void anOlderProviderWithoutLatestResultsIsCheckedNow() throws Exception {
        // a provider built against API 1.1: latest() is the interface's default
        agents(Duration.ofSeconds(5));
        HypervisorProtection old = (host, domain) -> result(Status.INTACT, Duration.ZERO);
        source.protection = old;

        MigrationOutcome o = migrate();

        assertThat(o.succeeded()).as(o.reason()).isTrue();
        assertThat(reliedOnLatest()).isFalse();
    }

    @Test
    void noProviderAtAllStillRefusesAfterTheWait() throws Exception {
        agents(Duration.ofSeconds(5));
        source.protection = null;

        MigrationOutcome o = migrate();

        assertThat(o.cause()).isEqualTo(Cause.PROTECTION);
        assertThat(o.reason()).contains("no hypervisor protection service within 2 s");
        assertThat(o.runsOnSource()).isTrue();
        verify(source.hypervisor, never()).migrate(any(), any(), any(), any());
    }
}
