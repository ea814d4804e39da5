package io.ferry.itests.checkpoint;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import org.junit.After;
import org.junit.AfterClass;
import org.junit.Before;
import org.junit.BeforeClass;
import org.junit.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.ferry.api.channel.AgentAddress;
import io.ferry.api.checkpoint.CheckpointRecord;
import io.ferry.api.checkpoint.CheckpointSettings;
import io.ferry.api.checkpoint.Compression;
import io.ferry.api.checkpoint.RecoveryResult;
import io.ferry.api.hypervisor.DomainState;
import io.ferry.hypervisor.internal.LibvirtHypervisor;
import io.ferry.itests.SerialLog;
import io.ferry.itests.Testbed;
import io.ferry.itests.TestbedHypervisors;

/**
 * Fault campaign, IT center (issue 10, item 2): the IT center's real distribution is restarted
 * ({@code bin/stop}, {@code bin/start}, as in {@link ItCenterDistribution#restart()}) in the middle of an
 * operation that needs it, at a random moment, while an agent keeps sending audit events through its
 * real {@code ItCenterLinkService}:
 *
 * <ul>
 * <li>{@code MID_CHECKPOINT}: a checkpoint and the primary's lease renewals are under way; the primary
 * (laptop, host A) cannot renew while the IT center is down, pauses its guest, and must resume it after;
 * the backup (handheld, host B) must not recover meanwhile.</li>
 * <li>{@code MID_RECOVERY}: the primary is lost ({@code kill -9} of its QEMU, its agent gone) while the
 * IT center restarts: the backup notices the silence, cannot take the lease over while the IT center is
 * down, and must recover the guest exactly once when it is back.</li>
 * </ul>
 *
 * <p>After each run: the guest runs exactly once (one QEMU process of it on the machine, running on
 * exactly one host, the expected one), it booted once and its disk matches its memory; nothing sealed
 * is lost (every secret of the surviving agents' seal storage before the restart is there with the same
 * bytes, the IT center's root is the same, the agents' certificates are still accepted); the audit log
 * is complete (every event the IT center had before the restart is still there, unchanged; every audit
 * event it acknowledged, before, during or after the restart, is there exactly once; the lease and
 * checkpoint events of the run are there, once each).
 *
 * <p>Size: two runs by default (one of each kind), {@code -Dferry.campaign=full} ten (kinds alternating),
 * {@code -Dferry.campaign.runs=N}; {@code -Dferry.campaign.seed=N} repeats the random moments' choices.
 */
public class ItCenterRestartCampaignIT {

    private enum Kind {
        MID_CHECKPOINT, MID_RECOVERY
    }

    private static final boolean FULL = "full".equals(System.getProperty("ferry.campaign"));
    private static final long SEED = Long.getLong("ferry.campaign.seed", System.nanoTime());
    private static final ObjectMapper JSON = new ObjectMapper();
    private static ItCenterDistribution itc;
    private static ItCenterDistribution.Agent laptopId;
    private static ItCenterDistribution.Agent handheldId;

    private final Testbed testbed = Testbed.load();
    private final String hostA = System.getProperty("ferry.itest.hosts", "ita itb").split(" ")[0];
    private final String hostB = System.getProperty("ferry.itest.hosts", "ita itb").split(" ")[1];
    private final Random random = new Random(SEED);
    private LibvirtHypervisor a;
    private LibvirtHypervisor b;
    private CheckpointAgent laptop;
    private CheckpointAgent handheld;
    private final List<String> names = new ArrayList<>();
    private Path dir;

    /**
     * An agent of this JVM with a 4 s lease and no fencing watchdog: the campaign checks the agents' own lease
     * handling, and kills QEMU itself.
     */
    private static CheckpointAgent agent(ItCenterDistribution.Agent identity, LibvirtHypervisor host, Path home,
            String failover) throws Exception {
        return CheckpointAgent.enrolled(identity, host, home, null,
                Map.of("failover", failover, "lease_ttl_s", 4, "fence", "none"));
    }

    @BeforeClass
    public static void startItCenter() throws Exception {
        System.out.println("IT center restart campaign seed " + SEED + (FULL ? " (full)" : ""));
        itc = ItCenterDistribution.start(Testbed.load().work());
        laptopId = itc.register("rc-laptop");
        handheldId = itc.register("rc-handheld");
    }

    @AfterClass
    public static void stopItCenter() throws Exception {
        if (itc != null) {
            itc.close();
        }
    }

    @Before
    public void setUp() throws Exception {
        a = TestbedHypervisors.connect(hostA, testbed.hostUri(hostA));
        b = TestbedHypervisors.connect(hostB, testbed.hostUri(hostB));
        dir = Files.createDirectories(testbed.work().resolve("vms").resolve("rc-agents-" + System.nanoTime()));
        laptop = agent(laptopId, a, dir.resolve("laptop"), "manual");
        handheld = agent(handheldId, b, dir.resolve("handheld"), "automatic");
    }

    @After
    public void tearDown() throws IOException {
        CheckpointFixtures.removeGuests(names, a, b);
        for (CheckpointAgent x : new CheckpointAgent[] {laptop, handheld}) {
            if (x != null) {
                x.kill();
            }
        }
        CheckpointFixtures.deleteTree(dir);
        CheckpointFixtures.deleteGuestFiles(testbed, names);
    }

    @Test
    public void restartingTheItCenterMidOperationKeepsOneCopyTheSealedKeysAndTheAudit() throws Exception {
        int runs = Integer.getInteger("ferry.campaign.runs", FULL ? 10 : 2);
        Map<Kind, Integer> done = new TreeMap<>();
        for (int run = 1; run <= runs; run++) {
            if (run > 1) {
                tearDown();
                setUp();
            }
            Kind kind = Kind.values()[(run - 1) % Kind.values().length];
            run(run, runs, kind);
            done.merge(kind, 1, Integer::sum);
        }
        System.out.println("IT center restart campaign: " + runs + " runs passed " + done + ", seed " + SEED);
    }

    private void run(int run, int runs, Kind kind) throws Exception {
        String name = "ferry-rc-" + Long.toString(System.nanoTime() % 100_000_000L, 36);
        SerialLog log = startGuest(name);
        laptop.service.enable(new CheckpointSettings(name, hostA, new AgentAddress(handheldId.id(), "127.0.0.1",
                handheld.channels.port()), Duration.ofHours(1), Compression.ZSTD, true));
        laptop.service.checkpointNow(name);
        log.awaitCounter(log.lastCounter() + 1, 30_000);
        CheckpointRecord second = laptop.service.checkpointNow(name);
        long epoch = lease(name).path("epoch").asLong();
        assertEquals(laptopId.id(), lease(name).path("holder").asText());

        // what must survive the restart
        byte[] rootBefore = caRoot();
        Map<String, byte[]> laptopSealed = CheckpointFixtures.snapshot(laptop.seal);
        Map<String, byte[]> handheldSealed = CheckpointFixtures.snapshot(handheld.seal);
        assertArrayEquals("the backup holds the VM's key", laptopSealed.get("checkpoint." + name),
                handheldSealed.get("checkpoint." + name));
        List<JsonNode> auditBefore = audit(name);

        // an agent's traffic to the IT center throughout: numbered audit events, each either acknowledged or not
        AtomicBoolean trafficOn = new AtomicBoolean(true);
        List<String> acknowledged = new CopyOnWriteArrayList<>();
        List<String> unanswered = new CopyOnWriteArrayList<>();
        Thread traffic = new Thread(() -> {
            for (int i = 0; trafficOn.get(); i++) {
                String mark = name + " #" + i;
                try {
                    handheld.link.call("POST", "audit", JSON.createObjectNode().put("kind", "campaign.mark")
                            .put("vm", name).put("detail", mark).toString(), Duration.ofSeconds(5));
                    acknowledged.add(mark);
                } catch (RuntimeException e) {
                    unanswered.add(mark);
                }
                try {
                    Thread.sleep(150);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "campaign-traffic");
        traffic.start();

        long delay = random.nextInt(kind == Kind.MID_CHECKPOINT ? 1500 : 3000);
        AtomicReference<Object> checkpoint = new AtomicReference<>();
        Thread during = null;
        AtomicReference<Object> restarted = new AtomicReference<>();
        Thread restart = new Thread(() -> {
            try {
                restarted.set(itc.restart());
            } catch (Exception | AssertionError e) {
                restarted.set(e);
            }
        }, "campaign-itcenter-restart");
        long beforeKill = -1;
        int printedBeforeKill = -1;
        if (kind == Kind.MID_CHECKPOINT) {
            during = new Thread(() -> {
                try {
                    Thread.sleep(delay);
                    checkpoint.set(laptop.service.checkpointNow(name));
                } catch (RuntimeException | InterruptedException e) {
                    checkpoint.set(e);
                }
            }, "campaign-checkpoint");
            during.start();
            restart.start();
        } else {
            restart.start();
            Thread.sleep(delay);
            log.awaitCounter(log.lastCounter() + 1, 30_000);
            beforeKill = log.lastCounter();
            kill9(name);
            laptop.kill();
            printedBeforeKill = log.counters().size();
        }
        boolean sawPaused = false;
        while (restart.isAlive()) {
            assertTrue("more than one QEMU of " + name + ": " + qemuPids(name), qemuPids(name).size() <= 1);
            assertFalse("two running copies", running(a, name) && running(b, name));
            if (kind == Kind.MID_CHECKPOINT) {
                assertFalse("no recovery while the primary lives", b.exists(name));
                sawPaused |= a.exists(name) && a.domain(name).state() == DomainState.PAUSED;
            }
            Thread.sleep(200);
        }
        if (restarted.get() instanceof Throwable t) {
            throw new AssertionError("the IT center did not come back", t);
        }
        long restartMillis = (Long) restarted.get();

        RecoveryResult recovery = null;
        if (kind == Kind.MID_CHECKPOINT) {
            during.join(60_000);
            assertTrue("the checkpoint under way completed: " + checkpoint.get(),
                    checkpoint.get() instanceof CheckpointRecord);
            assertTrue("the laptop paused its guest while it could not renew", sawPaused);
            long until = System.currentTimeMillis() + 30_000;
            while (a.domain(name).state() != DomainState.RUNNING) {
                assertTrue("the guest was not resumed after the restart", System.currentTimeMillis() < until);
                assertFalse("no recovery while the primary lives", b.exists(name));
                Thread.sleep(200);
            }
            JsonNode l = lease(name);
            assertEquals(laptopId.id(), l.path("holder").asText());
            assertEquals("the lease keeps its epoch", epoch, l.path("epoch").asLong());
            CheckpointRecord next = laptop.service.checkpointNow(name);
            assertEquals("the next checkpoint is stored on the backup", next.sequence(),
                    handheld.service.stored().stream().filter(x -> x.vm().equals(name)).findFirst().orElseThrow()
                            .sequence());
            assertNull("no recovery", handheld.service.lastRecovery(name));
        } else {
            long deadline = System.currentTimeMillis() + 90_000;
            while ((recovery = handheld.service.lastRecovery(name)) == null) {
                assertTrue("no recovery after the IT center came back", System.currentTimeMillis() < deadline);
                assertTrue(qemuPids(name).size() <= 1);
                Thread.sleep(200);
            }
            assertEquals("the latest complete checkpoint", second.sequence(), recovery.sequence());
            assertEquals(epoch + 1, recovery.epoch());
            JsonNode l = lease(name);
            assertEquals(handheldId.id(), l.path("holder").asText());
            assertEquals(epoch + 1, l.path("epoch").asLong());
            long wait = System.currentTimeMillis() + 60_000;
            while (log.counters().size() < printedBeforeKill + 3 && System.currentTimeMillis() < wait) {
                Thread.sleep(200);
            }
            assertTrue("the recovered guest counts on:\n" + log.tail(), log.counters().size() >= printedBeforeKill + 3);
            long resumed = log.counters().get(printedBeforeKill);
            assertTrue("resumed from the checkpoint, not beyond the kill: " + resumed + " > " + beforeKill,
                    resumed <= beforeKill + 1);
        }
        Thread.sleep(1000); // a few more marks after the restart
        trafficOn.set(false);
        traffic.join(15_000);

        // the VM runs exactly once, where it should, consistent
        List<Long> pids = qemuPids(name);
        assertEquals("one QEMU process of " + name + ": " + pids, 1, pids.size());
        LibvirtHypervisor where = kind == Kind.MID_CHECKPOINT ? a : b;
        LibvirtHypervisor other = kind == Kind.MID_CHECKPOINT ? b : a;
        assertEquals(DomainState.RUNNING, where.domain(name).state());
        assertFalse("no copy on " + other.hostName(), other.exists(name) && other.domain(name).state().isActive());
        assertEquals("no reboot", 1, log.boots());
        assertEquals("disk consistent with memory", 0, log.diskErrors());

        // nothing sealed is lost: the surviving agents' secrets, the IT center's root, the certificates
        assertSealed("handheld", handheldSealed, CheckpointFixtures.snapshot(handheld.seal));
        if (kind == Kind.MID_CHECKPOINT) {
            assertSealed("laptop", laptopSealed, CheckpointFixtures.snapshot(laptop.seal));
        }
        assertArrayEquals("the IT center's root", rootBefore, caRoot());
        assertArrayEquals("the root the agents were issued under", laptopId.root().getEncoded(), rootBefore);
        assertEquals(handheldId.id(), read("agents/" + handheldId.id()).path("id").asText());

        // the audit log is complete
        List<JsonNode> auditAfter = audit(name);
        Map<Long, JsonNode> bySeq = new HashMap<>();
        for (JsonNode e : auditAfter) {
            assertNull("one event per sequence number", bySeq.put(e.path("seq").asLong(), e));
        }
        for (JsonNode e : auditBefore) {
            assertEquals("kept unchanged: " + e, e, bySeq.get(e.path("seq").asLong()));
        }
        Map<String, Integer> marks = new HashMap<>();
        for (JsonNode e : auditAfter) {
            if (e.path("kind").asText().equals("campaign.mark")) {
                marks.merge(e.path("detail").asText(), 1, Integer::sum);
            }
        }
        for (String m : acknowledged) {
            assertEquals("acknowledged audit event " + m, Integer.valueOf(1), marks.get(m));
        }
        for (String m : unanswered) {
            // not acknowledged: refused while the IT center was down, or written and its answer lost — never twice
            assertTrue("unanswered audit event " + m + " at most once", marks.getOrDefault(m, 0) <= 1);
        }
        assertTrue("marks were refused while the IT center was down: " + unanswered.size(), !unanswered.isEmpty());
        assertEquals(1, count(auditAfter, "lease.acquired", laptopId.id()));
        assertEquals(1, count(auditAfter, "checkpoint.enabled", laptopId.id()));
        if (kind == Kind.MID_CHECKPOINT) {
            assertEquals(0, count(auditAfter, "lease.transferred", null));
            assertEquals(0, count(auditAfter, "checkpoint.recovered", null));
        } else {
            assertEquals("one lease take-over", 1, count(auditAfter, "lease.transferred", handheldId.id()));
            assertEquals("one recovery", 1, count(auditAfter, "checkpoint.recovered", handheldId.id()));
        }
        System.out.printf("run %d/%d %s: restart %d ms (%d ms in); %s; audit marks %d acknowledged, %d unanswered "
                + "(%d of them written); %d audit events of the VM%n", run, runs, kind, restartMillis, delay,
                kind == Kind.MID_CHECKPOINT ? "checkpoint under way " + ((CheckpointRecord) checkpoint.get()).sequence()
                        + " completed, guest paused and resumed, lease epoch " + epoch + " kept"
                        : "recovered checkpoint " + recovery.sequence() + " at epoch " + recovery.epoch() + " in "
                                + recovery.recoveryMillis() + " ms",
                acknowledged.size(), unanswered.size(), unanswered.stream().filter(marks::containsKey).count(),
                auditAfter.size());
    }

    private static void assertSealed(String who, Map<String, byte[]> before, Map<String, byte[]> after) {
        for (Map.Entry<String, byte[]> e : before.entrySet()) {
            assertNotNull(who + " lost the sealed " + e.getKey(), after.get(e.getKey()));
            assertArrayEquals(who + "'s sealed " + e.getKey(), e.getValue(), after.get(e.getKey()));
        }
    }

    private static long count(List<JsonNode> audit, String kind, String agent) {
        return audit.stream().filter(e -> e.path("kind").asText().equals(kind))
                .filter(e -> agent == null || agent.equals(e.path("agent").asText())).count();
    }

    /** The IT center's audit events of a VM, oldest first, asked over the handheld's link. */
    private List<JsonNode> audit(String vm) throws Exception {
        List<JsonNode> events = new ArrayList<>();
        read("audit?vm=" + vm + "&limit=10000").forEach(events::add);
        return events;
    }

    /** The IT center's root as {@code GET /api/v1/ca} serves it (DER), over TLS trusting the root the agents have. */
    private static byte[] caRoot() throws Exception {
        KeyStore anchors = KeyStore.getInstance("PKCS12");
        anchors.load(null, null);
        anchors.setCertificateEntry("root", laptopId.root());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(anchors);
        SSLContext ssl = SSLContext.getInstance("TLSv1.3");
        ssl.init(null, tmf.getTrustManagers(), null);
        HttpClient client = HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(5)).build();
        HttpRequest get = HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + ItCenterDistribution.HTTPS_PORT
                + "/api/v1/ca")).timeout(Duration.ofSeconds(10)).GET().build();
        HttpResponse<byte[]> r = client.send(get, HttpResponse.BodyHandlers.ofByteArray());
        // a restarted IT center may flap for a moment (see read)
        for (int i = 0; i < 60 && r.statusCode() == 503; i++) {
            Thread.sleep(500);
            r = client.send(get, HttpResponse.BodyHandlers.ofByteArray());
        }
        assertEquals(200, r.statusCode());
        return r.body();
    }

    private JsonNode lease(String vm) throws Exception {
        return read("leases/" + vm);
    }

    /**
     * The test's own reads of the IT center, over the handheld's link. A freshly restarted IT center can still flap
     * for a moment after it first answers (a path requested while its JAX-RS servlet was being added stays routed to
     * the 503 servlet until itcenter-tls rebuilds the routes a few seconds later), answering 503
     * "starting or stopping": the test waits that out (bounded) instead of failing on it; the agents' own calls keep
     * their outage rules, which are what the campaign checks.
     */
    private JsonNode read(String path) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            try {
                return JSON.readTree(handheld.link.call("GET", path, null, Duration.ofSeconds(10)));
            } catch (io.ferry.api.itcenter.ItCenterException e) {
                if (e.reason() != io.ferry.api.itcenter.ItCenterException.Reason.UNAVAILABLE
                        || System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(500);
            }
        }
    }

    private SerialLog startGuest(String name) throws Exception {
        names.add(name);
        return CheckpointFixtures.startGuest(testbed, a, name);
    }

    private static boolean running(LibvirtHypervisor h, String name) {
        try {
            return h.exists(name) && h.domain(name).state() == DomainState.RUNNING;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** The QEMU processes of a guest on the whole machine (any testbed host). */
    private static List<Long> qemuPids(String guest) throws IOException {
        List<Long> pids = new ArrayList<>();
        try (var procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                String cmd;
                try {
                    cmd = new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8).replace('\0', ' ');
                } catch (IOException gone) {
                    continue;
                }
                if (cmd.contains("guest=" + guest + ",")) {
                    pids.add(Long.parseLong(p.getFileName().toString()));
                }
            }
        }
        return pids;
    }

    private void kill9(String domain) throws Exception {
        CheckpointFixtures.kill9(testbed, hostA, domain);
    }
}
