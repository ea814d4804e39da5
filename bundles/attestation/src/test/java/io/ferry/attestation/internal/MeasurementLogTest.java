package io.ferry.attestation.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.ferry.api.attestation.MeasurementStatus;

/** The log file and its reconciliation with the PCR, against an in-memory PCR bank. */
class MeasurementLogTest {

    @TempDir
    Path dir;
    FakeTpm tpm = new FakeTpm();

    TpmMeasurer measurer(Path... binaries) {
        return new TpmMeasurer(tpm, null, new TpmMeasurer.Settings(23, List.of(), dir, List.of(binaries), false,
                List.of("io.ferry")), Clock.systemUTC());
    }

    Path binary(String name, String content) throws Exception {
        return Files.writeString(dir.resolve(name), content);
    }

    Path logFile() {
        return dir.resolve(TpmMeasurer.LOG_FILE);
    }

    @Test
    void measuresOnceUntilChangedAndSurvivesARestart() throws Exception {
        Path qemu = binary("qemu-system-x86_64", "qemu v1");
        TpmMeasurer m = measurer(qemu, dir.resolve("libvirtd-missing"));
        assertThat(m.measureAll()).hasSize(1);
        assertThat(m.measureAll()).isEmpty();
        assertThat(m.status().problem()).contains("libvirtd-missing does not exist");
        Files.writeString(qemu, "qemu v2");
        assertThat(m.measureAll()).singleElement().satisfies(e -> assertThat(e.sequence()).isEqualTo(2));
        assertThat(m.status().replays()).isTrue();

        TpmMeasurer again = measurer(qemu); // agent restart, TPM not reset
        assertThat(again.log()).hasSize(2);
        assertThat(again.measureAll()).isEmpty();
        assertThat(again.status().replays()).isTrue();
        assertThat(again.status().problem()).isNull();
        assertThat(Files.readString(logFile())).startsWith("M|1|23|binary|qemu-system-x86_64|unknown|");
    }

    @Test
    void aTpmResetStartsANewSegment() throws Exception {
        Path qemu = binary("qemu-system-x86_64", "qemu");
        measurer(qemu).measureAll();
        tpm.pcrs[23] = new byte[32]; // reboot
        TpmMeasurer m = measurer(qemu);
        assertThat(m.log()).isEmpty();
        assertThat(m.measureAll()).singleElement().satisfies(e -> assertThat(e.sequence()).isEqualTo(2));
        MeasurementStatus s = m.status();
        assertThat(s.events()).isEqualTo(1);
        assertThat(s.totalEvents()).isEqualTo(2);
        assertThat(s.replays()).isTrue();
        assertThat(Files.readString(logFile())).contains("\nR|");
    }

    @Test
    void anEventLoggedButNotExtendedBeforeACrashIsCompletedAtStart() throws Exception {
        Path qemu = binary("qemu-system-x86_64", "qemu");
        TpmMeasurer m = measurer(qemu);
        m.measureAll();
        byte[] before = tpm.pcrs[23].clone();
        // the crash: the event is on the disk, the extend never happened
        MeasurementLog log = MeasurementLog.open(logFile());
        log.append(m.log().get(0).withSequence(9));
        assertThat(tpm.pcrs[23]).isEqualTo(before);
        TpmMeasurer restarted = measurer(qemu);
        assertThat(restarted.log()).hasSize(2);
        assertThat(restarted.status().replays()).isTrue();
        assertThat(restarted.status().problem()).isNull();
    }

    @Test
    void aTornLastLineIsCutOffKeptAsideAndReported() throws Exception {
        Path qemu = binary("qemu-system-x86_64", "qemu");
        measurer(qemu).measureAll();
        String good = Files.readString(logFile());
        // a crash in the middle of writing the next line
        Files.writeString(logFile(), "M|2|23|binary|libvirtd|9.0|abc", StandardOpenOption.APPEND);
        TpmMeasurer m = measurer(qemu);
        assertThat(Files.readString(logFile())).isEqualTo(good);
        assertThat(m.log()).hasSize(1);
        assertThat(m.status().problem()).contains("a torn last line of the measurement log (30 bytes, no newline at its end)")
                .contains("kept in measurements.log.torn-");
        assertThat(m.status().replays()).isTrue();
        try (var s = Files.list(dir)) {
            Path torn = s.filter(p -> p.getFileName().toString().startsWith("measurements.log.torn-")).findFirst().orElseThrow();
            assertThat(Files.readString(torn)).isEqualTo("M|2|23|binary|libvirtd|9.0|abc");
        }
    }

    @Test
    void aCompleteLastLineWithABadCheckIsTornToo() throws Exception {
        Path qemu = binary("qemu-system-x86_64", "qemu");
        measurer(qemu).measureAll();
        String good = Files.readString(logFile());
        Files.writeString(logFile(), good.replace("|qemu-system-x86_64|", "|qemu-system-x86_65|"));
        TpmMeasurer m = measurer(qemu);
        assertThat(m.status().problem()).contains("its check value does not match");
        assertThat(m.log()).isEmpty();
        // the event is gone from the log but not from the PCR: that is reported, never papered over
        assertThat(m.status().replays()).isFalse();
        assertThat(m.status().problem()).contains("does not replay to PCR 23");
    }

    @Test
    void aDamagedLineBeforeTheLastMakesTheLogUntrustedAndANewOneStarts() throws Exception {
        Path qemu = binary("qemu-system-x86_64", "qemu");
        TpmMeasurer first = measurer(qemu);
        first.measureAll();
        Files.writeString(qemu, "qemu 2");
        first.measureAll();
        List<String> lines = Files.readAllLines(logFile(), StandardCharsets.US_ASCII);
        Files.write(logFile(), List.of(lines.get(0).replace("|23|", "|22|"), lines.get(1)));
        TpmMeasurer m = measurer(qemu);
        assertThat(m.status().problem()).contains("line 1 is damaged").contains("moved to measurements.log.corrupt-");
        assertThat(m.log()).isEmpty();
        assertThat(m.status().replays()).isFalse();
    }
}
