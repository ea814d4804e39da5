package io.ferry.migration.internal;

import static io.ferry.migration.internal.TestAgent.VM;
import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.when;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.ferry.api.channel.Channel;
import io.ferry.api.hypervisor.DomainState;
import io.ferry.api.hypervisor.HypervisorException;
import io.ferry.api.hypervisor.JobStats;
import io.ferry.api.hypervisor.MigrationOptions;
import io.ferry.api.hypervisor.MigrationResult;
import io.ferry.api.migration.MigrationOutcome;
import io.ferry.api.migration.Cause;
import io.ferry.channel.testing.TestPki;

/**
 * Secure migration with QEMU's own stream (a stream folder configured): libvirt is given a
 * {@code unix://} migration URI in the folder as libvirt sees it, the source's QEMU connects to the
 * relay's socket there, and the target joins the stream channel to its incoming QEMU's socket of the
 * same name, only for the session it accepted. Fake QEMUs stand on both ends (UNIX sockets in each
 * agent's own folder).
 */
class QemuStreamTest extends FlowFixture {

    /** The folder as libvirt sees it: the same on both devices; each agent's own view differs here. */
    private static final Path LIBVIRT_FOLDER = Path.of("/run/libvirt/ferry");

    @TempDir
    Path dir;

    private void startStreamingAgents() throws Exception {
        TestPki pki = new TestPki("IT center");
        MigrationEngine.Limits limits = TestAgent.limits();
        source = new TestAgent("laptop", pki.agent("laptop"), limits, DomainState.RUNNING, null,
                new StreamSockets(LIBVIRT_FOLDER, folder("laptop")));
        target = new TestAgent("home", pki.agent("home"), limits, null, null,
                new StreamSockets(LIBVIRT_FOLDER, folder("home")));
    }

    private Path folder(String agent) throws IOException {
        return Files.createDirectories(dir.resolve(agent));
    }

    /** The target's incoming QEMU of that socket: listens (as libvirt's Prepare has it), reads the stream. */
    private static CompletableFuture<byte[]> incomingQemu(Path socket) throws IOException {
        ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        listener.bind(UnixDomainSocketAddress.of(socket));
        return CompletableFuture.supplyAsync(() -> {
            try (listener; SocketChannel c = listener.accept(); InputStream in = Channels.newInputStream(c)) {
                return MessageDigest.getInstance("SHA-256").digest(in.readAllBytes());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /** The relay's socket: this agent's user and the folder's group may connect, nobody else. */
    private static void assertOnlyOwnerAndGroupMayConnect(Path socket) throws IOException {
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)))
                .isEqualTo("rw-rw----");
    }

    /** The source's QEMU: connects to the socket libvirt was given (as this agent sees it) and sends. */
    private static void outgoingQemu(Path socket, byte[] state) throws IOException {
        try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(socket));
                OutputStream out = Channels.newOutputStream(c)) {
            out.write(state);
        }
    }

    private static String socketName(MigrationOptions options) {
        assertThat(options.streamUri()).startsWith("unix://" + LIBVIRT_FOLDER + "/").endsWith(".sock");
        return Path.of(options.streamUri().substring("unix://".length())).getFileName().toString();
    }

    @Test
    void theVmStateGoesFromTheSourcesQemuToTheTargetsInsideTheChannel() throws Exception {
        startStreamingAgents();
        byte[] state = new byte[8 << 20];
        new Random(11).nextBytes(state);
        CompletableFuture<byte[]>[] received = new CompletableFuture[1];
        when(source.hypervisor.migrate(eq(VM), anyString(), any(), any())).thenAnswer(inv -> {
            roundTripThroughRelay(inv.getArgument(1)); // libvirt's own connection still goes through its relay
            String name = socketName(inv.getArgument(2));
            received[0] = incomingQemu(target.streams.agentFolder().resolve(name));
            assertOnlyOwnerAndGroupMayConnect(source.streams.agentFolder().resolve(name));
            outgoingQemu(source.streams.agentFolder().resolve(name), state);
            received[0].get(10, TimeUnit.SECONDS);
            source.vmState = DomainState.SHUTOFF;
            target.vmState = DomainState.RUNNING;
            return new MigrationResult(VM, inv.getArgument(1), 150, new JobStats(150, 40, state.length, state.length,
                    0, 2_000_000, 0, 2));
        });

        MigrationOutcome o = migrate();

        assertThat(o.succeeded()).as(o.reason()).isTrue();
        assertThat(received[0].get()).isEqualTo(MessageDigest.getInstance("SHA-256").digest(state));
        // the relay's socket is gone with the migration
        try (var left = Files.list(source.streams.agentFolder())) {
            assertThat(left).isEmpty();
        }
    }

    @Test
    void aStreamThatBreaksAbortsTheMigrationWithTheVmOnTheSource() throws Exception {
        startStreamingAgents();
        when(source.hypervisor.abortJob(VM)).thenReturn(true);
        when(source.hypervisor.migrate(eq(VM), anyString(), any(), any())).thenAnswer(inv -> {
            roundTripThroughRelay(inv.getArgument(1));
            String name = socketName(inv.getArgument(2));
            // no incoming QEMU listens on the target: its side of the stream cannot be joined
            try {
                outgoingQemu(source.streams.agentFolder().resolve(name), new byte[1 << 20]);
            } catch (IOException e) {
                // the relay closed the QEMU connection: as QEMU, fail the job
            }
            throw new HypervisorException("migrate", VM, "migrate vm1 on host-laptop: operation failed: "
                    + "migration out job: unexpectedly failed; the domain keeps running on host-laptop");
        });

        MigrationOutcome o = migrate();

        assertThat(o.succeeded()).isFalse();
        assertThat(o.runsOnSource()).as(o.reason()).isTrue();
        assertThat(o.cause()).isIn(Cause.LIBVIRT, Cause.CHANNEL);
        assertThat(source.vmState).isEqualTo(DomainState.RUNNING);
        await(() -> target.engine.inFlight().isEmpty(), "the target ended its migrate-in");
    }

    @Test
    void onlyTheAcceptedSessionOfThatPeerIsJoinedToAnIncomingQemu() throws Exception {
        startStreamingAgents();
        String[] outcome = new String[3];
        when(source.hypervisor.migrate(eq(VM), anyString(), any(), any())).thenAnswer(inv -> {
            String name = socketName(inv.getArgument(2));
            String session = name.substring(0, name.length() - ".sock".length());
            String other = "0123456789abcdef0123456789abcdef";
            // a QEMU of another session listens on the target: nobody may reach it through this migrate-in
            CompletableFuture<byte[]> otherQemu = incomingQemu(target.streams.agentFolder().resolve(other + ".sock"));
            outcome[0] = streamChannel(other + "\n");
            outcome[1] = streamChannel("../../run/libvirt-sock\n");
            outcome[2] = streamChannel(session + "\n"); // the accepted session, but nobody listens: closed too
            assertThat(otherQemu).isNotDone();
            otherQemu.cancel(true);
            Files.deleteIfExists(target.streams.agentFolder().resolve(other + ".sock"));
            throw new HypervisorException("migrate", VM, "test: stop here");
        });

        migrate();

        assertThat(outcome).containsOnly("closed by the target");
        await(() -> target.engine.inFlight().isEmpty(), "the target ended its migrate-in");
    }

    /** Opens a stream channel from the source with that first line; what the target did with it. */
    private String streamChannel(String preamble) throws IOException {
        try (Channel c = source.channels.open(target.address(), QemuStreamHandler.PURPOSE, Duration.ofSeconds(5))) {
            c.output().write(preamble.getBytes(StandardCharsets.US_ASCII));
            c.output().write(new byte[64]);
            c.output().flush();
            try {
                return c.input().read() == -1 ? "closed by the target" : "answered";
            } catch (IOException e) {
                return "closed by the target";
            }
        }
    }
}
