package io.ferry.checkpoint.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** qcow2 work with qemu-img: flatten a chain, re-point an overlay, commit an overlay into its base. */
class DiskTool {

    private final String qemuImg;

    DiskTool(String qemuImg) {
        this.qemuImg = qemuImg;
    }

    /** A whole, self-contained copy of a disk (its backing chain read through), even while a VM uses it. */
    void flatten(Path image, Path target) throws IOException {
        run("convert", "-U", "-O", "qcow2", image.toString(), target.toString());
    }

    /** Makes {@code overlay} refer to {@code base} without touching any data (qemu-img rebase -u). */
    void rebaseUnsafe(Path overlay, Path base) throws IOException {
        run("rebase", "-u", "-F", "qcow2", "-b", base.toAbsolutePath().toString(), overlay.toString());
    }

    /**
     * Writes the clusters of {@code overlay} into its backing file and leaves the overlay as it was
     * (-d): done again after a crash, it gives the same result.
     */
    void commit(Path overlay) throws IOException {
        run("commit", "-q", "-d", overlay.toString());
    }

    /** An empty qcow2 of that size (tests). */
    void create(Path image, String size) throws IOException {
        run("create", "-q", "-f", "qcow2", image.toString(), size);
    }

    /** A new overlay on {@code base} (tests). */
    void overlay(Path base, Path overlay) throws IOException {
        run("create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", base.toAbsolutePath().toString(), overlay.toString());
    }

    void run(String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(qemuImg);
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(10, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IOException("qemu-img " + args[0] + " did not finish in 10 minutes");
            }
            if (p.exitValue() != 0) {
                throw new IOException("qemu-img " + String.join(" ", args) + " failed (" + p.exitValue() + "): "
                        + output.strip());
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }
}
