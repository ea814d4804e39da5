package io.ferry.hypervisor.protection.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.ferry.api.protection.ProtectedRegion;

/**
 * Locates a Linux x86-64 guest's kernel text from QEMU's {@code info tlb} (the current CPU's page
 * tables): the first run of executable, supervisor pages in the kernel image mapping
 * ({@code 0xffffffff80000000}–{@code 0xffffffffc0000000}, modules start above it), virtually and
 * physically contiguous. KASLR moves it at every boot; after boot the kernel makes the text/rodata
 * gap and rodata non-executable, so the run ends at the text's last page. Needs no help from the
 * guest and no symbol table.
 */
final class KernelText {

    static final String NAME = "kernel-text";
    static final long IMAGE_START = 0xffffffff80000000L;
    static final long IMAGE_END = 0xffffffffc0000000L;
    private static final long SMALL = 4096;
    private static final long LARGE = 2L * 1024 * 1024;
    /** {@code ffffffff9d600000: 000000000a600000 -GPDA----}: virtual, physical, flags XGPDACTUW. */
    private static final Pattern LINE = Pattern.compile("^\\s*([0-9a-fA-F]{16}):\\s+([0-9a-fA-F]{16})\\s+([-A-Z]{9})\\s*$");

    private KernelText() {
    }

    /** One mapped page. */
    record Page(long virtual, long physical, long size, boolean executable, boolean user) {
        long end() {
            return virtual + size;
        }
    }

    /** The kernel text in that {@code info tlb} output, or empty when there is none (not Linux, paging off). */
    static Optional<ProtectedRegion> locate(String infoTlb) {
        List<Page> pages = new ArrayList<>();
        for (String line : infoTlb.split("\n")) {
            Page p = parse(line);
            if (p != null && Long.compareUnsigned(p.virtual(), IMAGE_START) >= 0
                    && Long.compareUnsigned(p.virtual(), IMAGE_END) < 0) {
                pages.add(p);
            }
        }
        pages.sort(Comparator.comparing(Page::virtual, Long::compareUnsigned));
        Page first = null;
        Page last = null;
        for (Page p : pages) {
            boolean text = p.executable() && !p.user();
            if (first == null) {
                if (text) {
                    first = p;
                    last = p;
                }
                continue;
            }
            boolean contiguous = p.virtual() == last.end() && p.physical() == last.physical() + last.size();
            if (!text || !contiguous) {
                break;
            }
            last = p;
        }
        if (first == null) {
            return Optional.empty();
        }
        return Optional.of(new ProtectedRegion(NAME, first.virtual(), first.physical(), last.end() - first.virtual(),
                "info-tlb"));
    }

    static Page parse(String line) {
        Matcher m = LINE.matcher(line);
        if (!m.matches()) {
            return null;
        }
        String flags = m.group(3);
        long size = flags.charAt(2) == 'P' ? LARGE : SMALL;
        return new Page(Long.parseUnsignedLong(m.group(1), 16), Long.parseUnsignedLong(m.group(2), 16), size,
                flags.charAt(0) != 'X', flags.charAt(7) == 'U');
    }
}
