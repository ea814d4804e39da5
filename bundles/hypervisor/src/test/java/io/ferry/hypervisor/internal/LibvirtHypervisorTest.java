package io.ferry.hypervisor.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.ferry.api.hypervisor.DomainState;
import io.ferry.api.hypervisor.HypervisorException;
import io.ferry.api.hypervisor.MemoryMode;
import io.ferry.api.hypervisor.MigrationListener;
import io.ferry.api.hypervisor.MigrationOptions;
import io.ferry.api.hypervisor.NoSuchDomainException;

/**
 * Runs the service against libvirt's in-process test driver (test:///default): real libvirt
 * client code, no daemon. It serves define/start/stop, save and restore, but not migration.
 */
class LibvirtHypervisorTest {

    private static final String GUEST = """
            <domain type='test'>
              <name>%s</name>
              <memory unit='MiB'>64</memory>
              <vcpu>1</vcpu>
              <os><type>hvm</type></os>
            </domain>
            """;

    private LibvirtHypervisor hv;

    @BeforeEach
    void open() {
        hv = new LibvirtHypervisor("unit", "test:///default", false);
    }

    @AfterEach
    void close() {
        for (String name : new String[] { "ferry-a", "ferry-b" }) {
            if (hv.exists(name)) {
                if (hv.domain(name).state().isActive()) {
                    hv.stop(name, true);
                }
                hv.undefine(name);
            }
        }
        hv.close();
    }

    @Test
    void listsTheTestDriversDomain() {
        assertThat(hv.listDomains()).anySatisfy(d -> {
            assertThat(d.name()).isEqualTo("test");
            assertThat(d.state()).isEqualTo(DomainState.RUNNING);
        });
    }

    @Test
    void definesStartsStopsAndUndefines() {
        assertThat(hv.define(GUEST.formatted("ferry-a"))).isEqualTo("ferry-a");
        assertThat(hv.domain("ferry-a").state()).isEqualTo(DomainState.SHUTOFF);
        hv.start("ferry-a");
        assertThat(hv.domain("ferry-a").state()).isEqualTo(DomainState.RUNNING);
        assertThat(hv.domainXml("ferry-a")).contains("<name>ferry-a</name>");
        hv.suspend("ferry-a");
        assertThat(hv.domain("ferry-a").state()).isEqualTo(DomainState.PAUSED);
        hv.resume("ferry-a");
        hv.stop("ferry-a", true);
        assertThat(hv.domain("ferry-a").state()).isEqualTo(DomainState.SHUTOFF);
        hv.undefine("ferry-a");
        assertThat(hv.exists("ferry-a")).isFalse();
    }

    @Test
    void unknownDomainNamesOperationDomainAndHost() {
        assertThatThrownBy(() -> hv.start("nope"))
                .isInstanceOf(NoSuchDomainException.class)
                .hasMessage("start nope: no such domain on unit");
        assertThatThrownBy(() -> hv.migrate("nope", "qemu+tcp://127.0.0.1:1/system", MigrationOptions.DEFAULT,
                MigrationListener.NONE)).isInstanceOf(NoSuchDomainException.class);
    }

    @Test
    void memoryPeekReadsAcrossItsCallsWithoutGapsOrShifts() {
        // the peek goes through libvirt directly (JNA) in calls of at most 4 MiB; the test driver answers a
        // peek with the low byte of each address, so every byte shows whether it came from the right place
        int length = 9 * 1024 * 1024 + 123; // three calls, the last one short
        long start = 0x1003;
        for (MemoryMode mode : MemoryMode.values()) {
            byte[] memory = hv.peekMemory("test", start, length, mode);
            assertThat(memory).hasSize(length);
            for (int i = 0; i < length; i++) {
                if (memory[i] != (byte) (start + i)) {
                    throw new AssertionError(mode + ": byte " + i + " is " + memory[i] + ", not " + (byte) (start + i));
                }
            }
        }
        assertThat(hv.peekMemory("test", 0, 0, MemoryMode.PHYSICAL)).isEmpty();
        assertThatThrownBy(() -> hv.peekMemory("nope", 0, 4096, MemoryMode.PHYSICAL))
                .isInstanceOf(NoSuchDomainException.class);
        assertThatThrownBy(() -> hv.peekMemory("test", 0, -1, MemoryMode.VIRTUAL))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void refusesToStartARunningDomainOrUndefineIt() {
        hv.define(GUEST.formatted("ferry-a"));
        hv.start("ferry-a");
        assertThatThrownBy(() -> hv.start("ferry-a")).hasMessageContaining("already running");
        assertThatThrownBy(() -> hv.undefine("ferry-a")).hasMessageContaining("stop it first");
        assertThat(hv.domain("ferry-a").state()).isEqualTo(DomainState.RUNNING);
    }

    @Test
    void migrationThatTheDriverRefusesLeavesTheDomainRunning() {
        hv.define(GUEST.formatted("ferry-a"));
        hv.start("ferry-a");
        assertThatThrownBy(() -> hv.migrate("ferry-a", "test:///default", MigrationOptions.DEFAULT,
                MigrationListener.NONE))
                .isInstanceOf(HypervisorException.class)
                .hasMessageContaining("migrate ferry-a on unit failed")
                .hasMessageContaining("keeps running on unit");
        assertThat(hv.domain("ferry-a").state()).isEqualTo(DomainState.RUNNING);
    }

    @Test
    void unreachableUriIsAClearError() {
        LibvirtHypervisor dead = new LibvirtHypervisor("dead", "qemu+tcp://127.0.0.1:9/system", false);
        try {
            assertThatThrownBy(dead::listDomains)
                    .isInstanceOf(HypervisorException.class)
                    .hasMessageStartingWith("list on dead failed: cannot connect to qemu+tcp://127.0.0.1:9/system");
        } finally {
            dead.close();
        }
    }

    @Test
    void restoresASavedImageWithReplacementXml(@TempDir Path tmp) throws Exception {
        hv.define(GUEST.formatted("ferry-a"));
        hv.start("ferry-a");
        Path image = tmp.resolve("ferry-a.save");
        // save is not part of the service; use libvirt-java directly on the same shared test driver
        org.libvirt.Connect direct = new org.libvirt.Connect("test:///default");
        direct.domainLookupByName("ferry-a").save(image.toString());
        direct.close();
        assertThat(Files.size(image)).isPositive();
        assertThat(hv.domain("ferry-a").state()).isEqualTo(DomainState.SHUTOFF);
        // through virDomainRestoreFlags (JNA); the test driver takes no replacement XML, QEMU does
        hv.restore(image, null, false);
        assertThat(hv.domain("ferry-a").state()).isEqualTo(DomainState.RUNNING);
        assertThatThrownBy(() -> hv.restore(image, GUEST.formatted("ferry-a"), false))
                .isInstanceOf(HypervisorException.class)
                .hasMessageStartingWith("restore ferry-a on unit failed: ");
    }
}
