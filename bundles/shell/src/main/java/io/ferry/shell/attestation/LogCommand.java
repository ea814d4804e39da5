package io.ferry.shell.attestation;

import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.ferry.api.attestation.MeasurementEntry;
import io.ferry.api.attestation.MeasurementStatus;
import io.ferry.api.attestation.Measurer;

@Service
@Command(scope = "attestation", name = "log",
        description = "Shows the measurement log since the TPM's last reset and whether it replays to the measurement PCR.")
public class LogCommand extends AttestationCommand {

    static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneId.systemDefault());

    @Option(name = "-d", aliases = "--digests", description = "Show full SHA-256 digests (default: the first 16 hex digits)")
    boolean full;

    @Override
    void run() {
        Measurer m = measurer();
        MeasurementStatus s = m.status();
        List<MeasurementEntry> log = m.log();
        System.out.printf("Log:      %s (%d events since the TPM's last reset, %d in all)%n", s.logFile(), s.events(),
                s.totalEvents());
        System.out.printf("PCR %-2d    %s%n", s.pcr(), s.pcrValue() == null ? "unavailable" : s.pcrValue());
        System.out.printf("Replay:   %s%n", s.replayValue());
        System.out.printf("Replays:  %s%n", s.replays() ? "yes" : "NO");
        if (s.problem() != null) {
            System.out.printf("Problem:  %s%n", s.problem());
        }
        if (log.isEmpty()) {
            return;
        }
        System.out.println();
        System.out.printf("%5s  %-19s  %-3s  %-6s  %-40s  %-24s  %s%n", "#", "Time", "PCR", "Kind", "Component", "Version",
                "SHA-256");
        for (MeasurementEntry e : log) {
            System.out.printf("%5d  %-19s  %-3d  %-6s  %-40s  %-24s  %s%n", e.sequence(), TIME.format(e.time()), e.pcr(),
                    e.kind().label(), e.component(), e.version(), full ? e.sha256() : e.sha256().substring(0, 16));
        }
    }
}
