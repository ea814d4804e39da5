package io.ferry.hypervisor.protection.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.ferry.api.attestation.ComponentKind;
import io.ferry.api.attestation.MeasurementEntry;
import io.ferry.api.protection.ComponentCheck;
import io.ferry.api.protection.DomainBaseline;
import io.ferry.api.protection.IntegrityCheck.Status;
import io.ferry.api.protection.ProtectedRegion;
import io.ferry.api.protection.RegionBaseline;

class ChangesTest {

    private static final String A = "a".repeat(64);
    private static final String B = "b".repeat(64);
    private static final String C = "c".repeat(64);
    private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");

    private static DomainBaseline baseline(RegionBaseline... regions) {
        return new DomainBaseline("h", "vm", "uuid", List.of(regions), NOW);
    }

    private static RegionBaseline region(String name, String sha) {
        return new RegionBaseline(new ProtectedRegion(name, 0, 0x1000, 4096, "configured"), sha);
    }

    @Test
    void sameDigestsAreIntact() {
        var c = Changes.compare(baseline(region("t", A), region("u", B)), Map.of("t", A, "u", B), NOW);
        assertThat(c.status()).isEqualTo(Status.INTACT);
        assertThat(c.intact()).isTrue();
        assertThat(c.findings()).isEmpty();
    }

    @Test
    void oneChangedRegionIsChangedAndNamed() {
        var c = Changes.compare(baseline(region("t", A), region("u", B)), Map.of("t", A, "u", C), NOW);
        assertThat(c.status()).isEqualTo(Status.CHANGED);
        assertThat(c.intact()).isFalse();
        assertThat(c.findings()).singleElement().asString().startsWith("u (gpa 0x1000, 4096 bytes)").contains(C, B);
    }

    @Test
    void aChangeWinsOverAnUnreadableRegionAndAnUnreadableOneAloneIsUnavailable() {
        var both = Changes.compare(baseline(region("t", A), region("u", B)), Map.of("u", C), NOW);
        assertThat(both.status()).isEqualTo(Status.CHANGED);
        assertThat(both.findings()).hasSize(2);
        var unreadable = Changes.compare(baseline(region("t", A), region("u", B)), Map.of("u", B), NOW);
        assertThat(unreadable.status()).isEqualTo(Status.UNAVAILABLE);
        assertThat(unreadable.intact()).isFalse();
    }

    @Test
    void aBaselineWithoutRegionsProtectsNothing() {
        assertThat(Changes.compare(baseline(), Map.of(), NOW).status()).isEqualTo(Status.NO_BASELINE);
    }

    @Test
    void binariesAreComparedWithTheirNewestLogEntry() {
        List<MeasurementEntry> log = List.of(
                new MeasurementEntry(1, 23, ComponentKind.BINARY, "qemu-system-x86_64", "7.2", A, NOW),
                new MeasurementEntry(2, 23, ComponentKind.BINARY, "libvirtd", "9.0", B, NOW),
                new MeasurementEntry(3, 23, ComponentKind.BINARY, "qemu-system-x86_64", "7.2", C, NOW));
        Map<String, String> actual = new LinkedHashMap<>();
        actual.put("/usr/bin/qemu-system-x86_64", C);
        actual.put("/usr/sbin/libvirtd", A);
        actual.put("/usr/bin/other", null);
        List<ComponentCheck> checks = Changes.components(actual, log);
        assertThat(checks).extracting(ComponentCheck::matches).containsExactly(true, false, false);
        assertThat(checks.get(1).logged()).isEqualTo(B);
        assertThat(checks.get(2).logged()).isNull();
    }
}
