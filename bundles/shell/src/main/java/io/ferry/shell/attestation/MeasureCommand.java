package io.ferry.shell.attestation;

import java.util.List;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.ferry.api.attestation.MeasurementEntry;
import io.ferry.api.attestation.Measurer;

@Service
@Command(scope = "attestation", name = "measure",
        description = "Measures the hypervisor binaries and every Ferry bundle now; a component is logged and extended "
                + "into the measurement PCR only if it changed since its last measurement.")
public class MeasureCommand extends AttestationCommand {

    @Override
    void run() {
        Measurer m = measurer();
        List<MeasurementEntry> added = m.measureAll();
        if (added.isEmpty()) {
            System.out.println("Nothing changed since the last measurement.");
        }
        for (MeasurementEntry e : added) {
            System.out.printf("Measured %-6s %s %s  sha256 %s%n", e.kind().label(), e.component(), e.version(), e.sha256());
        }
        var s = m.status();
        System.out.printf("%d events since the TPM's last reset; the log %s PCR %d.%s%n", s.events(),
                s.replays() ? "replays to" : "does NOT replay to", s.pcr(), s.problem() == null ? "" : " " + s.problem());
    }
}
