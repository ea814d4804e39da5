package io.ferry.hypervisor.protection.internal;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.ferry.api.attestation.MeasurementEntry;
import io.ferry.api.protection.ComponentCheck;
import io.ferry.api.protection.DomainBaseline;
import io.ferry.api.protection.IntegrityCheck;
import io.ferry.api.protection.IntegrityCheck.Status;
import io.ferry.api.protection.RegionBaseline;

/** Decisions as pure functions: measured digests against a baseline, binaries against the measurement log. */
final class Changes {

    private Changes() {
    }

    /**
     * Compares the digests measured now (by region name) with the baseline.
     *
     * @param measured a digest per region; a region missing here is reported as unreadable
     */
    static IntegrityCheck compare(DomainBaseline baseline, Map<String, String> measured, Instant now) {
        List<String> changed = new ArrayList<>();
        List<String> unreadable = new ArrayList<>();
        for (RegionBaseline r : baseline.regions()) {
            String name = r.region().name();
            String now0 = measured.get(name);
            if (now0 == null) {
                unreadable.add(name + ": not measured");
            } else if (!now0.equals(r.sha256())) {
                changed.add(String.format("%s (gpa 0x%x, %d bytes): sha256 %s, baseline %s", name,
                        r.region().physicalStart(), r.region().length(), now0, r.sha256()));
            }
        }
        if (!changed.isEmpty()) {
            changed.addAll(unreadable);
            return new IntegrityCheck(baseline.domain(), Status.CHANGED, changed, now);
        }
        if (!unreadable.isEmpty()) {
            return new IntegrityCheck(baseline.domain(), Status.UNAVAILABLE, unreadable, now);
        }
        if (baseline.regions().isEmpty()) {
            return new IntegrityCheck(baseline.domain(), Status.NO_BASELINE, List.of("the baseline has no region"), now);
        }
        return new IntegrityCheck(baseline.domain(), Status.INTACT, List.of(), now);
    }

    /** Each binary's digest now against the newest measurement-log entry of its file name. */
    static List<ComponentCheck> components(Map<String, String> actualByPath, List<MeasurementEntry> log) {
        List<ComponentCheck> out = new ArrayList<>();
        actualByPath.forEach((path, actual) -> {
            String component = path.substring(path.lastIndexOf('/') + 1);
            String logged = null;
            for (MeasurementEntry e : log) {
                if (e.component().equals(component)) {
                    logged = e.sha256();
                }
            }
            out.add(new ComponentCheck(component, path, logged, actual));
        });
        return out;
    }
}
