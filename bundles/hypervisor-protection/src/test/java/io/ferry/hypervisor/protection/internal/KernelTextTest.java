package io.ferry.hypervisor.protection.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

import io.ferry.api.protection.ProtectedRegion;

class KernelTextTest {

    private static String fixture() throws IOException {
        try (InputStream in = KernelTextTest.class.getResourceAsStream("/info-tlb-kaslr.txt")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void locatesTheExecutableRunOfTheKernelImageMappingInARealGuestsPageTables() throws IOException {
        // info tlb of the Debian test guest booted with KASLR: 7 large pages and 2 small ones of text,
        // then writable data; executable user pages and module pages must not count
        ProtectedRegion r = KernelText.locate(fixture()).orElseThrow();
        assertThat(r.name()).isEqualTo("kernel-text");
        assertThat(r.virtualStart()).isEqualTo(0xffffffff9d600000L);
        assertThat(r.physicalStart()).isEqualTo(0xa600000L);
        assertThat(r.length()).isEqualTo(7 * (2L << 20) + 2 * 4096);
        assertThat(r.source()).isEqualTo("info-tlb");
    }

    @Test
    void unorderedLinesAndCarriageReturnsAreFine() {
        String tlb = "ffffffff81200000: 0000000001200000 -GPDA----\r\n"
                + "ffffffff81000000: 0000000001000000 -GPDA----\r\n"
                + "ffffffff81400000: 0000000001400000 XGPDA---W\r\n";
        ProtectedRegion r = KernelText.locate(tlb.replace("\r", "")).orElseThrow();
        assertThat(r.virtualStart()).isEqualTo(0xffffffff81000000L);
        assertThat(r.length()).isEqualTo(4L << 20);
    }

    @Test
    void theRunStopsAtAVirtualOrPhysicalGap() {
        String physicalGap = "ffffffff81000000: 0000000001000000 -GPDA----\n"
                + "ffffffff81200000: 0000000007200000 -GPDA----\n";
        assertThat(KernelText.locate(physicalGap).orElseThrow().length()).isEqualTo(2L << 20);
        String virtualGap = "ffffffff81000000: 0000000001000000 -G-DA----\n"
                + "ffffffff81002000: 0000000001002000 -G-DA----\n";
        assertThat(KernelText.locate(virtualGap).orElseThrow().length()).isEqualTo(4096);
    }

    @Test
    void userAndModulePagesAndNonExecutablePagesAreNotKernelText() {
        String tlb = "0000000000400000: 000000000c90e000 ----A--U-\n"
                + "ffffffff81000000: 0000000001000000 ----A--U-\n"
                + "ffffffff81200000: 0000000001200000 XGPDA---W\n"
                + "ffffffffc0035000: 00000000012bf000 -G-DA----\n";
        assertThat(KernelText.locate(tlb)).isEmpty();
        assertThat(KernelText.locate("")).isEmpty();
        assertThat(KernelText.locate("PG disabled\n")).isEmpty();
    }
}
