package io.ferry.hypervisor.protection.internal;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.ferry.api.hypervisor.Hypervisor;
import io.ferry.api.hypervisor.MemoryMode;
import io.ferry.api.protection.ProtectedRegion;

/** Reads guest memory through libvirt: locating regions (QEMU monitor) and hashing them (memory peek). */
final class Memory {

    /**
     * Bytes read per peek call: the most libvirt's remote protocol takes in one call (4 MiB,
     * REMOTE_DOMAIN_MEMORY_PEEK_BUFFER_MAX); bounds the heap a measurement needs (two chunks when reading ahead).
     */
    static final int CHUNK = 4 * 1024 * 1024;
    private static final Pattern GPA = Pattern.compile("gpa:\\s*0x([0-9a-fA-F]+)");

    private Memory() {
    }

    /** The regions to protect in a running domain, located now. */
    static List<ProtectedRegion> locate(Hypervisor hv, String domain, boolean kernelText, List<RegionSpec> specs) {
        return locate(hv, domain, kernelText, specs, new HypervisorCalls(null));
    }

    /** The regions located now; the monitor commands (which wait for a migration job) through {@code calls}. */
    static List<ProtectedRegion> locate(Hypervisor hv, String domain, boolean kernelText, List<RegionSpec> specs,
            HypervisorCalls calls) {
        List<ProtectedRegion> regions = new ArrayList<>();
        if (kernelText) {
            String tlb = calls.call(() -> hv.monitorCommand(domain, "info tlb"));
            regions.add(KernelText.locate(tlb).orElseThrow(
                    () -> new IllegalStateException("no kernel text found in " + domain
                            + "'s page tables (not a booted x86-64 Linux guest?)")));
        }
        for (RegionSpec s : specs) {
            if (!s.appliesTo(hv.hostName(), domain)) {
                continue;
            }
            long physical = s.virtual() ? translate(hv, domain, s.start(), calls) : s.start();
            regions.add(new ProtectedRegion(s.name(), s.virtual() ? s.start() : 0, physical, s.length(), "configured"));
        }
        return regions;
    }

    /** A guest-virtual address translated by the current CPU's page tables ({@code gva2gpa}). */
    static long translate(Hypervisor hv, String domain, long virtual, HypervisorCalls calls) {
        String out = calls.call(() -> hv.monitorCommand(domain, "gva2gpa 0x" + Long.toHexString(virtual)));
        Matcher m = GPA.matcher(out);
        if (!m.find()) {
            throw new IllegalStateException("cannot translate 0x" + Long.toHexString(virtual) + " in " + domain + ": "
                    + out.strip());
        }
        return Long.parseUnsignedLong(m.group(1), 16);
    }

    /** SHA-256 (hex) of a region's guest-physical content now, read on the calling thread. */
    static String measure(Hypervisor hv, String domain, ProtectedRegion region) {
        return measure(hv, domain, region, new HypervisorCalls(null));
    }

    /**
     * SHA-256 (hex) of a region's guest-physical content now. Each read goes through {@code calls}: with an executor
     * the next chunk is read on it while this thread hashes the current one (the peek waits for libvirtd and QEMU,
     * the hash is this JVM's CPU), and a component that stops wakes this thread at once, however long the read in
     * progress takes in libvirt; it gives up before its next read otherwise (the abort reason is thrown). A failed
     * read ends the measurement with its exception.
     */
    static String measure(Hypervisor hv, String domain, ProtectedRegion region, HypervisorCalls calls) {
        MessageDigest sha = sha256();
        long length = region.length();
        CompletableFuture<byte[]> next = calls.start(() -> read(hv, domain, region, 0));
        for (long off = 0; off < length; off += CHUNK) {
            byte[] chunk = calls.await(next);
            long following = off + CHUNK;
            next = following < length ? calls.start(() -> read(hv, domain, region, following)) : null;
            sha.update(chunk);
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    private static byte[] read(Hypervisor hv, String domain, ProtectedRegion region, long off) {
        int n = (int) Math.min(CHUNK, region.length() - off);
        return hv.peekMemory(domain, region.physicalStart() + off, n, MemoryMode.PHYSICAL);
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
