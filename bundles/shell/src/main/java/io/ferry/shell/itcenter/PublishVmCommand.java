package io.ferry.shell.itcenter;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.completers.FileCompleter;

import io.ferry.api.policy.PolicyException;
import io.ferry.api.policy.PolicyProvisioning;
import io.ferry.api.policy.PublishedVm;
import io.ferry.shell.support.Services;

@Service
@Command(scope = "itcenter", name = "publish-vm", description = "Publishes a VM image with its migration policy: "
        + "validates the policy document, signs it with the IT center's policy key, and records the image and the "
        + "signed policy in the registry (audit event policy.published). Agents get the signed policy with "
        + "policy:fetch, or as the file written by --out for policy:import.")
public class PublishVmCommand extends ItCenterCommand {

    @Argument(index = 0, name = "vm", description = "The VM's name, as the policy's vm.name", required = true)
    String vm;

    @Argument(index = 1, name = "policy", description = "The policy document (YAML)", required = true)
    @Completion(FileCompleter.class)
    String policy;

    @Option(name = "-i", aliases = "--image", description = "The VM image: a file (its SHA-256 is computed) or a "
            + "digest sha256:<64 hex>; it must be the image the policy names. Default: the policy's image-digest")
    @Completion(FileCompleter.class)
    String image;

    @Option(name = "-o", aliases = "--out", description = "Also write the signed policy (JWS) to this file, to ship "
            + "with the image")
    @Completion(FileCompleter.class)
    String out;

    @Override
    public Object execute() throws Exception {
        PolicyProvisioning vms = Services.get(context, PolicyProvisioning.class,
                "the IT center's VM registry is not running (feature ferry-itcenter; log:display shows why)");
        String document = read(Path.of(policy), "policy document");
        String digest = image == null ? null : digest(image);
        PublishedVm p;
        try {
            p = vms.publish(vm, document, digest, actor());
        } catch (PolicyException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        if (out != null) {
            Files.writeString(Path.of(out), p.jws() + "\n", StandardCharsets.US_ASCII);
        }
        System.out.printf("Published VM %s (%s), image %s, owner %s: policy version %d signed by %s%s%n", p.name(),
                p.uuid(), p.imageDigest(), p.owner(), p.version(), p.keyId(), out == null ? "" : ", written to " + out);
        return null;
    }

    private static String digest(String image) throws IOException {
        if (image.startsWith("sha256:")) {
            return image;
        }
        Path file = Path.of(image);
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("--image: no file " + image + " (or give a digest sha256:<64 hex>)");
        }
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[1 << 20];
            for (int n; (n = in.read(buffer)) > 0;) {
                sha.update(buffer, 0, n);
            }
            return "sha256:" + HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String read(Path file, String what) throws IOException {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("no " + what + " " + file, e);
        }
    }
}
