package io.ferry.shell.migration;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;

import org.junit.jupiter.api.Test;

import io.ferry.api.migration.MigrationProgress;
import io.ferry.api.migration.Phase;

class MigrationLineTest {

    @Test
    void theTransferShowsBarRateRemainingAndDirtyRate() {
        String line = MigrationLine.render(new MigrationProgress("id", "vm1", Phase.TRANSFER, 50, 2 * 1024 * 1024,
                3 * 1024 * 1024, 120, 1500, ""));
        assertThat(line).startsWith("transfer     [###############---------------]  50%")
                .contains("2.0 MiB/s").contains("remaining 3.0 MiB").contains("dirty 120 pages/s").endsWith("1.50 s");
    }

    @Test
    void otherPhasesShowWhatHappens() {
        String line = MigrationLine.render(MigrationProgress.of("id", "vm1", Phase.PROTECTION, 20,
                "waiting up to 10 s for the hypervisor protection service"));
        assertThat(line).isEqualTo("protection   waiting up to 10 s for the hypervisor protection service  20 ms");
    }

    @Test
    void aShorterLineCoversTheLongerOneBeforeIt() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        MigrationLine l = new MigrationLine(new PrintStream(bytes, true));
        l.update(MigrationProgress.of("id", "vm1", Phase.CHANNEL, 5, "opening a channel to home@127.0.0.1:7443"));
        l.update(MigrationProgress.of("id", "vm1", Phase.ATTESTATION, 6, ""));
        l.finish();
        String[] frames = bytes.toString().split("\r");
        assertThat(frames[2].stripTrailing()).isEqualTo("attestation   6 ms");
        assertThat(frames[2].length()).isGreaterThanOrEqualTo(frames[1].length());
    }
}
