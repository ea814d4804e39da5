package io.ferry.hypervisor.protection.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class RegionSpecTest {

    @Test
    void parsesPhysicalAndVirtualRegionsWithAndWithoutHost() {
        RegionSpec a = RegionSpec.parse("demo=idt:gva:0xfffffe0000000000:4096");
        assertThat(a).isEqualTo(new RegionSpec(null, "demo", "idt", true, 0xfffffe0000000000L, 4096));
        assertThat(a.appliesTo("a", "demo")).isTrue();
        assertThat(a.appliesTo("a", "demo2")).isFalse();
        RegionSpec b = RegionSpec.parse("b/vm1=bios:gpa:1048576:0x1000");
        assertThat(b).isEqualTo(new RegionSpec("b", "vm1", "bios", false, 0x100000, 4096));
        assertThat(b.appliesTo("b", "vm1")).isTrue();
        assertThat(b.appliesTo("a", "vm1")).isFalse();
        assertThat(RegionSpec.parseAll(new String[] {" ", "x=y:gpa:0:1"})).hasSize(1);
        assertThat(RegionSpec.parseAll(null)).isEmpty();
    }

    @Test
    void refusesMalformedAndOversizedRegions() {
        for (String bad : new String[] {"demo", "demo=idt", "demo=idt:hva:0:1", "demo=idt:gpa:0:0",
                "demo=idt:gpa:zz:1", "demo=idt:gpa:0:" + (RegionSpec.MAX_LENGTH + 1), "=idt:gpa:0:1"}) {
            assertThatThrownBy(() -> RegionSpec.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("regions");
        }
    }
}
