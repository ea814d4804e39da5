package io.ferry.hypervisor.protection.internal;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
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
        return measure(hv, domain, region, () -> { }, null);
    }

    /**
     * SHA-256 (hex) of a region's guest-physical content now; {@code beforeChunk} runs before each read and may
     * throw to give up (the component is stopping). With a {@code reader}, the next chunk is read on it while
     * this thread hashes the current one (the peek waits for libvirtd and QEMU, the hash is this JVM's CPU); a
     * failure of either ends the measurement only after the read in progress returned.
     */
    static String measure(Hypervisor hv, String domain, ProtectedRegion region, Runnable beforeChunk, Executor reader) {
        MessageDigest sha = sha256();
        long length = region.length();
        if (reader == null || length <= CHUNK) {
            for (long off = 0; off < length; off += CHUNK) {
                sha.update(read(hv, domain, region, off, beforeChunk));
            }
            return HexFormat.of().formatHex(sha.digest());
        }
        CompletableFuture<byte[]> next = readAsync(hv, domain, region, 0, beforeChunk, reader);
        try {
            for (long off = 0; off < length; off += CHUNK) {
                byte[] chunk = join(next);
                next = off + CHUNK < length ? readAsync(hv, domain, region, off + CHUNK, beforeChunk, reader) : null;
                sha.update(chunk);
            }
        } finally {
            if (next != null) { // failed while the next read ran: let it end within this call
                try {
                    next.join();
                } catch (RuntimeException ignored) {
                    // the first failure is the one reported
                }
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    private static byte[] read(Hypervisor hv, String domain, ProtectedRegion region, long off, Runnable beforeChunk) {
        beforeChunk.run();
        int n = (int) Math.min(CHUNK, region.length() - off);
        return hv.peekMemory(domain, region.physicalStart() + off, n, MemoryMode.PHYSICAL);
    }

    private static CompletableFuture<byte[]> readAsync(Hypervisor hv, String domain, ProtectedRegion region, long off,
            Runnable beforeChunk, Executor reader) {
        try {
            return CompletableFuture.supplyAsync(() -> read(hv, domain, region, off, beforeChunk), reader);
        } catch (RejectedExecutionException e) { // the reader is shut down (the component stops): read here
            return CompletableFuture.completedFuture(read(hv, domain, region, off, beforeChunk));
        }
    }

    /** The chunk, or the read's own exception (the component's "stopping" instance stays the same object). */
    private static byte[] join(CompletableFuture<byte[]> f) {
        try {
            return f.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading guest memory", e);
        }
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
