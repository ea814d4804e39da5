package io.ferry.itests.transport;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Map;

import org.junit.After;
import org.junit.Before;
import org.junit.Test;

import io.ferry.api.channel.AgentAddress;
import io.ferry.api.channel.ChannelHandler;
import io.ferry.api.hypervisor.DomainState;
import io.ferry.api.hypervisor.HypervisorException;
import io.ferry.api.hypervisor.MigrationListener;
import io.ferry.api.hypervisor.MigrationOptions;
import io.ferry.api.hypervisor.MigrationResult;
import io.ferry.channel.internal.TlsAgentChannels;
import io.ferry.channel.testing.TestChannels;
import io.ferry.channel.testing.TestPki;
import io.ferry.itests.SerialLog;
import io.ferry.itests.Testbed;
import io.ferry.itests.TestbedHypervisors;
import io.ferry.hypervisor.internal.LibvirtHypervisor;
import io.ferry.migration.internal.Relay;
import io.ferry.migration.internal.LibvirtTunnelHandler;

/**
 * Secure migration's transport with real parts, outside Karaf: the test guest moves live from
 * testbed host A to host B while the source libvirtd talks to the target's only through the
 * relay, a mutual-TLS agent channel and the tunnel handler. Everything the migration sent is
 * counted at the relay: it must be at least the guest's memory in use, so the VM state did
 * travel inside the channel. A target that refuses the channel leaves the guest on A.
 */
public class SecureTransportIT {

    private final Testbed testbed = Testbed.load();
    private final String hostA = System.getProperty("ferry.itest.hosts", "ita itb").split(" ")[0];
    private final String hostB = System.getProperty("ferry.itest.hosts", "ita itb").split(" ")[1];
    private LibvirtHypervisor a;
    private LibvirtHypervisor b;
    private TlsAgentChannels laptop;
    private TlsAgentChannels mid;
    private LibvirtTunnelHandler tunnel;
    private String name;

    @Before
    public void setUp() throws Exception {
        a = hypervisor(hostA);
        b = hypervisor(hostB);
        TestPki pki = new TestPki("IT center");
        laptop = TestChannels.start(pki.agent("laptop"));
        mid = TestChannels.start(pki.agent("mid"));
        URI targetLibvirt = URI.create(uri(hostB));
        tunnel = new LibvirtTunnelHandler(new InetSocketAddress(targetLibvirt.getHost(), targetLibvirt.getPort()));
        mid.addHandler(tunnel, Map.of(ChannelHandler.PURPOSE, LibvirtTunnelHandler.PURPOSE));
        name = "ferry-tls-" + Long.toString(System.currentTimeMillis() % 1_000_000, 36);
    }

    @After
    public void tearDown() {
        for (LibvirtHypervisor h : new LibvirtHypervisor[] { a, b }) {
            try {
                if (h.exists(name)) {
                    if (h.domain(name).state().isActive()) {
                        h.stop(name, true);
                    }
                    h.undefine(name);
                }
            } catch (RuntimeException e) {
                System.err.println("cleanup on " + h.hostName() + ": " + e.getMessage());
            }
            h.close();
        }
        laptop.close();
        mid.close();
        tunnel.close();
    }

    @Test
    public void theGuestMovesLiveWithItsWholeStateInsideTheChannel() throws Exception {
        Path work = testbed.work();
        Path vms = Files.createDirectories(work.resolve("vms"));
        Path disk = vms.resolve(name + ".qcow2");
        Path serial = vms.resolve(name + ".log");
        Files.copy(work.resolve("guest/disk-template.qcow2"), disk, StandardCopyOption.REPLACE_EXISTING);
        a.define(testbed.guestXml(name, disk, serial));
        a.start(name);
        SerialLog log = new SerialLog(serial);
        long before = log.awaitCounter(3, 120_000);

        // a target agent without the tunnel: the channel is refused and the guest stays on A
        mid.removeHandler(tunnel, Map.of(ChannelHandler.PURPOSE, LibvirtTunnelHandler.PURPOSE));
        try (Relay relay = Relay.libvirt(laptop, agent(), Duration.ofSeconds(10))) {
            a.migrate(name, relay.libvirtUri(), MigrationOptions.DEFAULT, MigrationListener.NONE);
            fail("a refused channel must fail the migration");
        } catch (HypervisorException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("keeps running on " + hostA));
        }
        assertEquals(DomainState.RUNNING, a.domain(name).state());
        assertFalse(b.exists(name));
        mid.addHandler(tunnel, Map.of(ChannelHandler.PURPOSE, LibvirtTunnelHandler.PURPOSE));

        long memoryBytes = a.domain(name).memoryKiB() * 1024;
        MigrationResult result;
        long carried;
        try (Relay relay = Relay.libvirt(laptop, agent(), Duration.ofSeconds(10))) {
            result = a.migrate(name, relay.libvirtUri(), MigrationOptions.DEFAULT, MigrationListener.NONE);
            assertNull(relay.failure());
            carried = relay.bytesCarried();
        }
        System.out.printf("migrated %s through the channel in %d ms, downtime %d ms, %d MiB carried%n", name,
                result.wallMillis(), result.stats().downtimeMillis(), carried >> 20);

        assertEquals(DomainState.RUNNING, b.domain(name).state());
        assertFalse(a.exists(name));
        assertTrue("carried " + carried + " bytes, transferred " + result.stats().dataProcessed(),
                carried >= result.stats().dataProcessed() && result.stats().dataProcessed() > 0);
        assertTrue("the guest's memory in use (" + memoryBytes + ") crossed the channel: " + carried,
                carried > memoryBytes / 8);
        long after = log.lastCounter();
        log.awaitCounter(after + 3, 30_000);
        assertEquals("one boot", 1, log.boots());
        assertEquals("disk intact", 0, log.diskErrors());
        assertTrue(after >= before);
    }

    private AgentAddress agent() {
        return new AgentAddress("mid", "127.0.0.1", mid.port());
    }

    private String uri(String host) {
        return testbed.hostUri(host);
    }

    private LibvirtHypervisor hypervisor(String host) {
        return TestbedHypervisors.connect(host, uri(host));
    }
}
