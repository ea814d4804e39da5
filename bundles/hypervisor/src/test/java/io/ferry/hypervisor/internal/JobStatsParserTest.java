package io.ferry.hypervisor.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.libvirt.TypedParameter;
import org.libvirt.TypedStringParameter;
import org.libvirt.TypedUlongParameter;

import io.ferry.api.hypervisor.JobStats;

class JobStatsParserTest {

    @Test
    void readsLibvirtFieldNames() {
        JobStats s = JobStatsParser.parse(new TypedParameter[] {
                new TypedUlongParameter("time_elapsed", 1200),
                new TypedUlongParameter("downtime", 95),
                new TypedUlongParameter("data_total", 1000),
                new TypedUlongParameter("data_processed", 700),
                new TypedUlongParameter("data_remaining", 250),
                new TypedUlongParameter("memory_bps", 50_000_000),
                new TypedUlongParameter("memory_dirty_rate", 300),
                new TypedUlongParameter("memory_iteration", 3),
                new TypedStringParameter("ignored", "x") });
        assertThat(s).isEqualTo(new JobStats(1200, 95, 1000, 700, 250, 50_000_000, 300, 3));
        assertThat(s.percent()).isEqualTo(75);
    }

    @Test
    void missingFiguresAreMinusOne() {
        assertThat(JobStatsParser.parse(new TypedParameter[0])).isSameAs(JobStats.NONE);
        JobStats s = JobStatsParser.parse(new TypedParameter[] { new TypedUlongParameter("time_elapsed", 5) });
        assertThat(s.elapsedMillis()).isEqualTo(5);
        assertThat(s.downtimeMillis()).isEqualTo(-1);
        assertThat(s.percent()).isEqualTo(-1);
    }
}
