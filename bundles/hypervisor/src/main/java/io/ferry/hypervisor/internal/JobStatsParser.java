package io.ferry.hypervisor.internal;

import java.util.HashMap;
import java.util.Map;

import org.libvirt.TypedIntParameter;
import org.libvirt.TypedLongParameter;
import org.libvirt.TypedParameter;
import org.libvirt.TypedUintParameter;
import org.libvirt.TypedUlongParameter;

import io.ferry.api.hypervisor.JobStats;

/** Reads the typed parameters of virDomainGetJobStats into {@link JobStats}. */
final class JobStatsParser {

    private JobStatsParser() {
    }

    static JobStats parse(TypedParameter[] params) {
        if (params == null || params.length == 0) {
            return JobStats.NONE;
        }
        Map<String, Long> values = new HashMap<>();
        for (TypedParameter p : params) {
            Long v = numeric(p);
            if (v != null) {
                values.put(p.field, v);
            }
        }
        return fromMap(values);
    }

    /** Field names as libvirt defines them (VIR_DOMAIN_JOB_*). */
    static JobStats fromMap(Map<String, Long> v) {
        return new JobStats(
                v.getOrDefault("time_elapsed", -1L),
                v.getOrDefault("downtime", -1L),
                v.getOrDefault("data_total", -1L),
                v.getOrDefault("data_processed", -1L),
                v.getOrDefault("data_remaining", -1L),
                v.getOrDefault("memory_bps", -1L),
                v.getOrDefault("memory_dirty_rate", -1L),
                v.getOrDefault("memory_iteration", -1L));
    }

    private static Long numeric(TypedParameter p) {
        if (p instanceof TypedUlongParameter u) {
            return u.value;
        }
        if (p instanceof TypedLongParameter l) {
            return l.value;
        }
        if (p instanceof TypedUintParameter u) {
            return Integer.toUnsignedLong(u.value);
        }
        if (p instanceof TypedIntParameter i) {
            return (long) i.value;
        }
        return null;
    }
}
