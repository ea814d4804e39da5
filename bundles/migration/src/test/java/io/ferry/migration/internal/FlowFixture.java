package io.ferry.migration.internal;

import static io.ferry.migration.internal.TestAgent.VM;
import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.when;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.AfterEach;

import io.ferry.api.hypervisor.DomainState;
import io.ferry.api.hypervisor.JobStats;
import io.ferry.api.hypervisor.MigrationListener;
import io.ferry.api.hypervisor.MigrationResult;
import io.ferry.api.migration.MigrationOutcome;
import io.ferry.api.migration.MigrationProgress;
import io.ferry.api.migration.MigrationRequest;
import io.ferry.channel.testing.TestPki;

/**
 * The set-up the flow tests share: a source agent "laptop" running the VM and a target agent "home" without it
 * (see {@link TestAgent}), the source's progress reports, and a libvirt that moves the VM.
 */
abstract class FlowFixture {

    TestAgent source;
    TestAgent target;
    final List<MigrationProgress> progress = new CopyOnWriteArrayList<>();

    /** Starts both agents (certificates of one test IT center) with these limits. */
    void startAgents(MigrationEngine.Limits limits) throws Exception {
        TestPki pki = new TestPki("IT center");
        source = new TestAgent("laptop", pki.agent("laptop"), limits, DomainState.RUNNING);
        target = new TestAgent("home", pki.agent("home"), limits, null);
    }

    @AfterEach
    void closeAgents() throws Exception {
        if (source != null) {
            source.close();
        }
        if (target != null) {
            target.close();
        }
    }

    MigrationOutcome migrate() {
        return migrate(MigrationRequest.of(VM, target.address(), "alice"));
    }

    MigrationOutcome migrate(MigrationRequest request) {
        return source.engine.migrateOut(request, progress::add);
    }

    /** libvirt succeeds: some bytes go through the relay to the target's (fake) libvirtd and come back. */
    void libvirtSucceeds() {
        when(source.hypervisor.migrate(eq(VM), anyString(), any(), any())).thenAnswer(inv -> {
            roundTripThroughRelay(inv.getArgument(1));
            MigrationListener l = inv.getArgument(3);
            l.progress(new JobStats(100, -1, 1000, 500, 500, 2_000_000, 42, 1));
            source.vmState = DomainState.SHUTOFF; // without UNDEFINE_SOURCE libvirt keeps the stopped definition
            target.vmState = DomainState.RUNNING;
            return new MigrationResult(VM, inv.getArgument(1), 150, new JobStats(150, 40, 1000, 1000, 0, 2_000_000, 0, 2));
        });
    }

    static void roundTripThroughRelay(String libvirtUri) throws Exception {
        try (Socket s = new Socket("127.0.0.1", URI.create(libvirtUri).getPort())) {
            OutputStream out = s.getOutputStream();
            out.write("libvirt rpc".getBytes());
            out.flush();
            InputStream in = s.getInputStream();
            assertThat(new String(in.readNBytes(11))).isEqualTo("libvirt rpc");
        }
    }

    static void await(BooleanSupplier condition, String what) {
        long deadline = System.currentTimeMillis() + 10_000;
        while (!condition.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("not within 10 s: " + what);
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }
}
