package io.ferry.checkpoint.internal;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

/**
 * Fencing on the primary's host that does not need the agent alive: per protected VM a small
 * watchdog process ({@code ferry-fence.sh}, started outside the JVM with {@code setsid} under
 * {@code flock}, so one per VM outlives any agent restart) kills the VM's QEMU (SIGKILL, the pid from
 * libvirt's pid file) and destroys the domain through libvirt once the deadline the agent last wrote
 * has passed. The agent writes {@code last renewal sent + fence time}
 * (see {@link Times}) while the VM runs, and keeps moving it while it has paused the VM itself; it
 * removes the file when protection ends. Deadlines are in the boot-time clock ({@code /proc/uptime}),
 * which both processes read and which runs on through a suspend, as the lease time at the IT center
 * does.
 */
final class Fencing {

    private static final Logger LOG = Logger.getLogger(Fencing.class.getName());
    private static final Path UPTIME = Path.of("/proc/uptime");
    private static final String SCRIPT = "ferry-fence.sh";
    private static final long START_EVERY_MS = 2000;

    /**
     * The lease's timing on the primary. The watchdog destroys the VM at {@code fenceAfter} after the
     * last granted renewal was sent, {@code margin} before the lease can expire at the IT center (which
     * counts from when it received the renewal, later); the living agent pauses the VM itself at
     * {@code pauseAfter}, at least two heartbeat intervals before the watchdog would act, and renews
     * every {@code renewEvery}.
     */
    record Times(long margin, long fenceAfter, long pauseAfter, long renewEvery) {

        static Times of(Duration ttl, long beatMillis) {
            long t = ttl.toMillis();
            long margin = Math.max(1000, t / 8);
            long fence = t - margin;
            long pause = Math.min(t * 3 / 4, fence - 2 * beatMillis - 250);
            long renew = Math.max(250, Math.min(t / 3, pause / 2));
            return new Times(margin, fence, pause, renew);
        }
    }

    private final Path dir;
    private final String virsh;
    private final String qemuPidDir;
    private final boolean enabled;
    private final Path script;
    private final Map<String, Process> watchdogs = new ConcurrentHashMap<>();
    private final Map<String, Long> written = new ConcurrentHashMap<>();
    private final Map<String, Long> started = new ConcurrentHashMap<>();

    Fencing(Path dir, String virsh, String qemuPidDir, boolean wanted) throws IOException {
        this.dir = dir;
        this.virsh = virsh;
        this.qemuPidDir = qemuPidDir;
        this.script = dir.resolve(SCRIPT);
        this.enabled = wanted && Files.isReadable(UPTIME);
        if (wanted && !enabled) {
            LOG.warning("no " + UPTIME + ": VMs are not fenced on this host when the agent dies");
        }
        if (enabled) {
            Files.createDirectories(dir);
            byte[] text;
            try (InputStream in = Fencing.class.getResourceAsStream(SCRIPT)) {
                text = in.readAllBytes();
            }
            if (!Files.exists(script) || !Arrays.equals(Files.readAllBytes(script), text)) {
                Path tmp = dir.resolve(SCRIPT + ".tmp");
                Files.write(tmp, text);
                Files.move(tmp, script, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    boolean enabled() {
        return enabled;
    }

    /** Milliseconds of the boot-time clock (/proc/uptime, 10 ms steps); the monotonic clock without it. */
    static long bootMillis() {
        try {
            String s = Files.readString(UPTIME, StandardCharsets.US_ASCII);
            String up = s.substring(0, s.indexOf(' '));
            int dot = up.indexOf('.');
            return Long.parseLong(up.substring(0, dot)) * 1000 + Long.parseLong(up.substring(dot + 1)) * 10;
        } catch (IOException | RuntimeException e) {
            return System.nanoTime() / 1_000_000;
        }
    }

    Path stateFile(String vm) {
        return dir.resolve(vm + ".deadline");
    }

    Path logFile(String vm) {
        return dir.resolve(vm + ".log");
    }

    /**
     * Lets the VM run until {@code deadline} (boot-time ms) and makes sure its watchdog is on duty
     * ({@code uri}: the libvirt URI of its host).
     */
    void hold(String vm, String uri, long deadline) {
        if (!enabled) {
            return;
        }
        long cs = deadline / 10;
        Long before = written.get(vm);
        if (before == null || before != cs || !Files.exists(stateFile(vm))) {
            try {
                Path tmp = dir.resolve(vm + ".deadline.tmp");
                Files.writeString(tmp, cs + "\n", StandardCharsets.US_ASCII);
                Files.move(tmp, stateFile(vm), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                written.put(vm, cs);
            } catch (IOException e) {
                LOG.warning("cannot write the fence deadline of " + vm + ": " + e.getMessage());
            }
        }
        ensureOnDuty(vm, uri);
    }

    /** Protection of the VM ended here: its watchdog stands down (within 0.2 s) without touching it. */
    void release(String vm) {
        written.remove(vm);
        watchdogs.remove(vm);
        try {
            Files.deleteIfExists(stateFile(vm));
        } catch (IOException e) {
            LOG.warning("cannot remove the fence deadline of " + vm + ": " + e.getMessage());
        }
    }

    /** The VM's watchdog on duty, if any (started here or by an earlier run of the agent). */
    Optional<ProcessHandle> watchdog(String vm) {
        try {
            long pid = Long.parseLong(Files.readString(pidFile(vm), StandardCharsets.US_ASCII).strip());
            String state = stateFile(vm).toString();
            Optional<ProcessHandle> onDuty = ProcessHandle.of(pid).filter(ProcessHandle::isAlive)
                    .filter(p -> p.info().arguments().map(a -> Arrays.asList(a).contains(state)).orElse(false));
            if (onDuty.isPresent()) {
                return onDuty;
            }
        } catch (IOException | RuntimeException e) {
            // no pid file (yet)
        }
        Process own = watchdogs.get(vm);
        return own != null && own.isAlive() ? Optional.of(own.toHandle()) : Optional.empty();
    }

    /** Where the watchdog writes its pid. */
    Path pidFile(String vm) {
        return dir.resolve(vm + ".deadline.pid");
    }

    private void ensureOnDuty(String vm, String uri) {
        if (watchdog(vm).isPresent()) {
            return;
        }
        long now = System.nanoTime() / 1_000_000;
        Long last = started.get(vm);
        if (last != null && now - last < START_EVERY_MS) {
            return; // just started one: it writes its pid file in a moment
        }
        started.put(vm, now);
        List<String> command = List.of("setsid", "-w", "flock", "-n", "-E", "75",
                dir.resolve(vm + ".lock").toString(), "/bin/sh", script.toString(), vm, stateFile(vm).toString(), uri,
                virsh, qemuPidDir);
        try {
            Process p = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile(vm).toFile())).redirectErrorStream(true)
                    .start();
            watchdogs.put(vm, p);
            LOG.fine("fencing watchdog of " + vm + " started (pid " + p.pid() + ")");
        } catch (IOException e) {
            LOG.warning("cannot start the fencing watchdog of " + vm + " (" + command + "): " + e.getMessage());
        }
    }
}
