package io.ferry.hypervisor.protection.internal;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.ferry.api.hypervisor.Hypervisor;
import io.ferry.api.hypervisor.MemoryMode;
import io.ferry.api.protection.ProtectedRegion;

/** Reads guest memory through libvirt: locating regions (QEMU monitor) and hashing them (memory peek). */
final class Memory {

    /** Bytes read per peek call: bounds the heap a measurement needs. */
    static final int CHUNK = 1024 * 1024;
    private static final Pattern GPA = Pattern.compile("gpa:\\s*0x([0-9a-fA-F]+)");

    private Memory() {
    }

    /** The regions to protect in a running domain, located now. */
    static List<ProtectedRegion> locate(Hypervisor hv, String domain, boolean kernelText, List<RegionSpec> specs) {
        List<ProtectedRegion> regions = new ArrayList<>();
        if (kernelText) {
            regions.add(KernelText.locate(hv.monitorCommand(domain, "info tlb")).orElseThrow(
                    () -> new IllegalStateException("no kernel text found in " + domain
                            + "'s page tables (not a booted x86-64 Linux guest?)")));
        }
        for (RegionSpec s : specs) {
            if (!s.appliesTo(hv.hostName(), domain)) {
                continue;
            }
            long physical = s.virtual() ? translate(hv, domain, s.start()) : s.start();
            regions.add(new ProtectedRegion(s.name(), s.virtual() ? s.start() : 0, physical, s.length(), "configured"));
        }
        return regions;
    }

    /** A guest-virtual address translated by the current CPU's page tables ({@code gva2gpa}). */
    static long translate(Hypervisor hv, String domain, long virtual) {
        String out = hv.monitorCommand(domain, "gva2gpa 0x" + Long.toHexString(virtual));
        Matcher m = GPA.matcher(out);
        if (!m.find()) {
            throw new IllegalStateException("cannot translate 0x" + Long.toHexString(virtual) + " in " + domain + ": "
                    + out.strip());
        }
        return Long.parseUnsignedLong(m.group(1), 16);
    }

    /** SHA-256 (hex) of a region's guest-physical content now. */
    static String measure(Hypervisor hv, String domain, ProtectedRegion region) {
        return measure(hv, domain, region, () -> { });
    }

    /**
     * SHA-256 (hex) of a region's guest-physical content now; {@code beforeChunk} runs before each read and may
     * throw to give up (the component is stopping).
     */
    static String measure(Hypervisor hv, String domain, ProtectedRegion region, Runnable beforeChunk) {
        MessageDigest sha = sha256();
        for (long off = 0; off < region.length(); off += CHUNK) {
            beforeChunk.run();
            int n = (int) Math.min(CHUNK, region.length() - off);
            sha.update(hv.peekMemory(domain, region.physicalStart() + off, n, MemoryMode.PHYSICAL));
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
