package io.ferry.checkpoint.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fencing watchdog as a real process (the shipped ferry-fence.sh under setsid and flock), with a
 * virsh that only writes down how it was called: it destroys the VM once the deadline passed, not
 * while it is moved on, stands down when protection ends, and a second agent instance (a restart)
 * finds the watchdog already on duty instead of starting another.
 */
class FencingTest {

    @TempDir
    Path tmp;

    private Path calls;
    private Path virsh;
    private final List<Fencing> fencings = new ArrayList<>();

    @BeforeEach
    void fakeVirsh() throws IOException {
        calls = tmp.resolve("virsh-calls");
        virsh = tmp.resolve("virsh");
        Files.writeString(virsh, "#!/bin/sh\necho \"$@\" >> '" + calls + "'\n", StandardCharsets.US_ASCII);
        Files.setPosixFilePermissions(virsh, PosixFilePermissions.fromString("rwx------"));
    }

    @AfterEach
    void stopWatchdogs() {
        for (Fencing f : fencings) {
            for (String vm : List.of("vm1", "vm2", "vm3", "vm4", "vm5")) {
                f.watchdog(vm).ifPresent(ProcessHandle::destroy);
            }
        }
    }

    private Fencing fencing() throws IOException {
        Fencing f = new Fencing(tmp.resolve("fence"), virsh.toString(), tmp.resolve("qemu").toString(), true);
        fencings.add(f);
        return f;
    }

    private List<String> virshCalls() throws IOException {
        return Files.exists(calls) ? Files.readAllLines(calls) : List.of();
    }

    private static void await(String what, java.util.function.BooleanSupplier condition, long millis)
            throws InterruptedException {
        long until = System.nanoTime() + millis * 1_000_000;
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as(what).isLessThan(until);
            Thread.sleep(20);
        }
    }

    @Test
    void theVmIsDestroyedOnceTheDeadlinePassedWithoutTheAgent() throws Exception {
        Fencing f = fencing();
        assertThat(f.enabled()).isTrue();
        long t0 = Fencing.bootMillis();
        f.hold("vm1", "qemu+tcp://127.0.0.1:1/system", t0 + 800);
        await("watchdog on duty", () -> f.watchdog("vm1").isPresent(), 3000);
        long pid = f.watchdog("vm1").orElseThrow().pid();
        // the agent is gone from here on: nobody moves the deadline
        Thread.sleep(400);
        assertThat(virshCalls()).as("not before the deadline").isEmpty();
        await("destroyed after the deadline", () -> {
            try {
                return !virshCalls().isEmpty();
            } catch (IOException e) {
                return false;
            }
        }, 3000);
        long late = Fencing.bootMillis() - (t0 + 800);
        assertThat(virshCalls()).containsExactly("-q -c qemu+tcp://127.0.0.1:1/system destroy vm1");
        assertThat(late).as("acted within a poll or two of the deadline").isLessThan(700);
        await("the watchdog exits", () -> ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true), 3000);
        assertThat(Files.readString(f.logFile("vm1"))).contains("destroying").contains("destroyed");
    }

    /** A process that looks like libvirt's QEMU of {@code vm} in /proc/<pid>/cmdline ({@code -name guest=vm,...}). */
    private Process fakeQemu(String vm) throws IOException {
        Process p = new ProcessBuilder("/bin/sh", "-c", "sleep 60; true", "-name", "guest=" + vm + ",debug-threads=on")
                .start();
        processes.add(p);
        return p;
    }

    private final List<Process> processes = new ArrayList<>();

    @AfterEach
    void stopFakes() {
        processes.forEach(Process::destroyForcibly);
    }

    @Test
    void theVmsQemuIsKilledAtOnceButOnlyWhenItIsThatVmsQemu() throws Exception {
        Path pids = Files.createDirectories(tmp.resolve("qemu"));
        Process qemu = fakeQemu("vm4");
        Files.writeString(pids.resolve("vm4.pid"), qemu.pid() + "\n");
        // vm5's pid file names a process that is not vm5's QEMU (a reused pid): it is left alone
        Process other = fakeQemu("vm55");
        Files.writeString(pids.resolve("vm5.pid"), other.pid() + "\n");
        Fencing f = fencing();
        long deadline = Fencing.bootMillis() + 300;
        f.hold("vm4", "test:///default", deadline);
        f.hold("vm5", "test:///default", deadline);
        await("vm4's QEMU killed", () -> !qemu.isAlive(), 3000);
        long late = Fencing.bootMillis() - deadline;
        await("both destroyed through libvirt", () -> {
            try {
                return virshCalls().size() == 2;
            } catch (IOException e) {
                return false;
            }
        }, 3000);
        assertThat(late).as("killed within a poll or two of the deadline").isLessThan(700);
        assertThat(qemu.exitValue()).as("SIGKILL").isEqualTo(128 + 9);
        assertThat(other.isAlive()).as("not vm5's QEMU: not killed").isTrue();
        assertThat(virshCalls()).containsExactlyInAnyOrder("-q -c test:///default destroy vm4",
                "-q -c test:///default destroy vm5");
        assertThat(Files.readString(f.logFile("vm4"))).contains("killed QEMU pid " + qemu.pid());
        assertThat(Files.readString(f.logFile("vm5"))).doesNotContain("killed QEMU");
    }

    @Test
    void aDeadlineKeptMovingIsNeverReachedAndAnEndedProtectionStandsDown() throws Exception {
        Fencing f = fencing();
        long end = System.nanoTime() + 2_000_000_000L;
        while (System.nanoTime() < end) {
            f.hold("vm2", "test:///default", Fencing.bootMillis() + 500);
            Thread.sleep(100);
        }
        long pid = f.watchdog("vm2").orElseThrow().pid();
        assertThat(virshCalls()).isEmpty();
        f.release("vm2");
        await("the watchdog stands down", () -> ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true), 3000);
        Thread.sleep(700);
        assertThat(virshCalls()).as("never destroyed").isEmpty();
        assertThat(Files.readString(f.logFile("vm2"))).contains("standing down");
    }

    @Test
    void aRestartedAgentFindsTheWatchdogOnDutyAndMovesItsDeadline() throws Exception {
        Fencing before = fencing();
        before.hold("vm3", "test:///default", Fencing.bootMillis() + 1500);
        await("watchdog on duty", () -> Files.exists(before.pidFile("vm3")), 3000);
        long pid = before.watchdog("vm3").orElseThrow().pid();
        // the agent restarts (a new instance on the same folder) and holds the VM again
        Fencing after = fencing();
        long end = System.nanoTime() + 2_500_000_000L;
        while (System.nanoTime() < end) {
            after.hold("vm3", "test:///default", Fencing.bootMillis() + 600);
            assertThat(after.watchdog("vm3").orElseThrow().pid()).as("the same watchdog").isEqualTo(pid);
            Thread.sleep(100);
        }
        assertThat(virshCalls()).as("fed by the restarted agent: no destroy").isEmpty();
        assertThat(Files.readString(after.logFile("vm3")).split("on duty", -1)).as("one watchdog started").hasSize(2);
    }

    @Test
    void theWatchdogActsBeforeTheLeaseCanExpireAndTheLivingAgentPausesFirst() {
        for (int ttl = 2; ttl <= 600; ttl++) {
            for (long beat : new long[] {250, 500, 1000}) {
                Fencing.Times t = Fencing.Times.of(Duration.ofSeconds(ttl), beat);
                assertThat(t.fenceAfter() + t.margin()).isEqualTo(ttl * 1000L);
                assertThat(t.margin()).isGreaterThanOrEqualTo(1000);
                if (ttl >= 6) {
                    assertThat(t.pauseAfter() + 2 * beat).as("ttl %d beat %d", ttl, beat).isLessThan(t.fenceAfter());
                    assertThat(t.renewEvery() * 2).isLessThanOrEqualTo(t.pauseAfter());
                }
            }
        }
        Fencing.Times standard = Fencing.Times.of(Duration.ofSeconds(30), 1000);
        assertThat(standard.pauseAfter()).isEqualTo(22_500);
        assertThat(standard.fenceAfter()).isEqualTo(26_250);
        assertThat(standard.renewEvery()).isEqualTo(10_000);
    }
}
