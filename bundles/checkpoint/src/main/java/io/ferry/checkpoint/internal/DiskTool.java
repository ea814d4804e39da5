package io.ferry.checkpoint.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
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

    /**
     * An encrypted copy (qcow2 with LUKS encryption, AES-256-XTS) of a plain image, under
     * {@code passphrase}; the passphrase goes to qemu-img in a file only this user can read, deleted after.
     * The passphrase is a random 256-bit key, so LUKS key stretching (PBKDF2) is kept to 10 ms: it would add
     * seconds to every open and nothing to the strength.
     */
    void encrypt(Path plain, Path target, byte[] passphrase) throws IOException {
        withSecret(target.toAbsolutePath().getParent(), passphrase, secret -> run("convert", "--object", secret, "-O",
                "qcow2", "-o", "encrypt.format=luks,encrypt.key-secret=s0,encrypt.iter-time=10", plain.toString(), target.toString()));
    }

    /** A plain, self-contained copy of an encrypted image (for the VM that runs from it). */
    void decrypt(Path encrypted, Path target, byte[] passphrase) throws IOException {
        withSecret(target.toAbsolutePath().getParent(), passphrase, secret -> run("convert", "--object", secret,
                "--image-opts", "driver=qcow2,file.filename=" + opt(encrypted) + ",encrypt.key-secret=s0", "-O", "qcow2",
                target.toString()));
    }

    /** As {@link #commit(Path)}, into an encrypted backing file. */
    void commitEncrypted(Path overlay, byte[] passphrase) throws IOException {
        withSecret(overlay.toAbsolutePath().getParent(), passphrase, secret -> run("commit", "--object", secret, "-q",
                "-d", "--image-opts", "driver=qcow2,file.filename=" + opt(overlay) + ",backing.encrypt.key-secret=s0"));
    }

    @FunctionalInterface
    private interface WithSecret {
        void run(String secretObject) throws IOException;
    }

    private static void withSecret(Path dir, byte[] passphrase, WithSecret action) throws IOException {
        Path file = Files.createTempFile(dir, ".secret-", ".b64",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            Files.write(file, Base64.getEncoder().encode(passphrase));
            action.run("secret,id=s0,file=" + opt(file)); // the passphrase is the base64 text of the key bytes
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** A path as a qemu option value (commas doubled). */
    private static String opt(Path p) {
        return p.toAbsolutePath().toString().replace(",", ",,");
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
