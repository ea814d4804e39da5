package io.ferry.shell.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

import io.ferry.api.hypervisor.JobStats;

class ProgressBarTest {

    @Test
    void rendersPercentRateRemainingAndDirtyRate() {
        JobStats s = new JobStats(1500, -1, 400L << 20, 100L << 20, 100L << 20, 50L << 20, 1200, 2);
        assertThat(ProgressBar.render(s))
                .startsWith("[######################--------]  75%")
                .contains("50.0 MiB/s")
                .contains("remaining 100.0 MiB")
                .contains("dirty 1200 pages/s")
                .endsWith("1.50 s");
    }

    @Test
    void unknownTotalsShowAQuestionMark() {
        assertThat(ProgressBar.render(JobStats.NONE)).startsWith("[------------------------------]   ?%");
    }

    @Test
    void aShorterLineCoversTheLongerOneBeforeIt() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ProgressBar bar = new ProgressBar(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        bar.update(new JobStats(1500, -1, 400L << 20, 100L << 20, 100L << 20, 50L << 20, 1200, 2));
        bar.update(new JobStats(1600, -1, 400L << 20, 100L << 20, 100L << 20, 50L << 20, -1, 2));
        bar.finish();
        String[] frames = bytes.toString(StandardCharsets.UTF_8).split("\r");
        assertThat(frames[2].stripTrailing()).doesNotContain("dirty");
        assertThat(frames[2].length()).isGreaterThanOrEqualTo(frames[1].length());
    }

    @Test
    void unitsAreHumanReadable() {
        assertThat(Units.bytes(512)).isEqualTo("512 B");
        assertThat(Units.bytes(3L << 30)).isEqualTo("3.0 GiB");
        assertThat(Units.millis(95)).isEqualTo("95 ms");
        assertThat(Units.millis(1234)).isEqualTo("1.23 s");
        assertThat(Units.bytes(-1)).isEqualTo("?");
    }
}
