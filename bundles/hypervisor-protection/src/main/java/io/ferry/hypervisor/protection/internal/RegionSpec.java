package io.ferry.hypervisor.protection.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A configured region: {@code [host/]domain=name:gpa|gva:start:length}.
 *
 * @param host     the Ferry host, or null for any host
 * @param domain   the domain's name
 * @param name     the region's name
 * @param virtual  whether {@code start} is a guest-virtual address (translated at each baseline)
 * @param start    the start address
 * @param length   the length in bytes
 */
public record RegionSpec(String host, String domain, String name, boolean virtual, long start, long length) {

    private static final Pattern SPEC = Pattern.compile(
            "(?:([A-Za-z0-9._-]+)/)?([A-Za-z0-9][A-Za-z0-9_.-]*)=([A-Za-z0-9._-]+):(gpa|gva):(0x[0-9a-fA-F]+|[0-9]+):(0x[0-9a-fA-F]+|[0-9]+)");
    /** Regions longer than this are refused (a full memory is not a region). */
    static final long MAX_LENGTH = 256L * 1024 * 1024;

    public static List<RegionSpec> parseAll(String[] specs) {
        List<RegionSpec> out = new ArrayList<>();
        for (String s : specs == null ? new String[0] : specs) {
            if (s != null && !s.isBlank()) {
                out.add(parse(s.trim()));
            }
        }
        return out;
    }

    static RegionSpec parse(String s) {
        Matcher m = SPEC.matcher(s);
        if (!m.matches()) {
            throw new IllegalArgumentException("regions: '" + s
                    + "' is not [host/]domain=name:gpa|gva:start:length (e.g. demo=idt:gva:0xfffffe0000000000:4096)");
        }
        long start = number(m.group(5));
        long length = number(m.group(6));
        if (length <= 0 || length > MAX_LENGTH) {
            throw new IllegalArgumentException("regions: '" + s + "': the length must be 1 to " + MAX_LENGTH + " bytes");
        }
        return new RegionSpec(m.group(1), m.group(2), m.group(3), "gva".equals(m.group(4)), start, length);
    }

    boolean appliesTo(String host, String domain) {
        return this.domain.equals(domain) && (this.host == null || this.host.equals(host));
    }

    private static long number(String s) {
        return s.startsWith("0x") ? Long.parseUnsignedLong(s.substring(2), 16) : Long.parseLong(s);
    }
}
