package io.ferry.seal.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import javax.crypto.AEADBadTagException;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;

import io.ferry.api.seal.Approval;
import io.ferry.api.seal.ApprovalRequest;
import io.ferry.api.seal.Approvals;
import io.ferry.api.seal.SealException;
import io.ferry.api.seal.SealException.Reason;
import io.ferry.api.seal.SealStatus;
import io.ferry.api.seal.SealStorage;
import io.ferry.api.tpm.KeyBlob;
import io.ferry.api.tpm.NvCounter;
import io.ferry.api.tpm.Pcr;
import io.ferry.api.tpm.PolicyDigests;
import io.ferry.api.tpm.PolicyStep;
import io.ferry.api.tpm.Tpm;
import io.ferry.api.tpm.TpmException;
import io.ferry.api.tpm.TpmPolicyException;
import io.ferry.api.tpm.TpmUnavailableException;

/**
 * Seal storage over the {@link Tpm} service.
 * <p>
 * Rollback protection uses a TPM NV counter, not a sealed high-water mark: a high-water mark kept
 * in a file (sealed or not) can be rolled back by restoring an old copy of that file, and the TPM
 * would still unseal with an old approval. A counter only moves up, even across undefine and
 * redefine (a new counter starts at the highest value any counter had), and the approved policy
 * contains {@code PolicyNV(counter <= version)}, so it is the TPM itself that refuses an old
 * approval, whatever happens to the files. Approval versions therefore live in the counter's
 * number space: {@link #approvalRequest()} tells the IT center the lowest version it may issue.
 */
@Component(service = SealStorage.class, configurationPid = "io.ferry.seal",
        configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = SealStorageConfig.class)
public final class TpmSealStorage implements SealStorage {

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}");
    private static final byte[] KEK_MAGIC = "FERRYKEK".getBytes(StandardCharsets.US_ASCII);
    private static final long MAX_VERSION_STEP = 1000;

    private final Tpm tpm;
    private final Path dir;
    private final Path secrets;
    /** Null when none is configured or it cannot be read: then {@link #approvalKeyProblem} says why. */
    private final PublicKey approvalKey;
    private final String approvalKeyProblem;
    private final List<Integer> pcrs;
    private final int counterIndex;
    private final SecureRandom random = new SecureRandom();

    @Activate
    public TpmSealStorage(SealStorageConfig config, @Reference Tpm tpm) {
        this(tpm, Path.of(config.storage_dir()), ConfiguredKey.load(config),
                policyPcrs(config.measurement_pcr(), config.boot_pcrs()), Integer.decode(config.counter_index()));
    }

    public TpmSealStorage(Tpm tpm, Path dir, PublicKey approvalKey, List<Integer> pcrs, int counterIndex) {
        this(tpm, dir, new ConfiguredKey(approvalKey, "no approval key is configured"), pcrs, counterIndex);
    }

    private TpmSealStorage(Tpm tpm, Path dir, ConfiguredKey key, List<Integer> pcrs, int counterIndex) {
        this.tpm = tpm;
        this.dir = dir;
        this.secrets = dir.resolve("secrets");
        this.approvalKey = key.key();
        this.approvalKeyProblem = key.problem();
        this.pcrs = List.copyOf(new TreeSet<>(pcrs));
        this.counterIndex = counterIndex;
    }

    /** The approval key, or why there is none: an agent without one still starts, and status says why. */
    private record ConfiguredKey(PublicKey key, String problem) {
        static ConfiguredKey load(SealStorageConfig config) {
            try {
                return new ConfiguredKey(loadKey(config), null);
            } catch (IllegalArgumentException e) {
                return new ConfiguredKey(null, e.getMessage()
                        + " (install the IT center's approval key there, or set approval.key.pem in io.ferry.seal)");
            }
        }
    }

    static List<Integer> policyPcrs(int measurement, int[] boot) {
        List<Integer> l = new ArrayList<>();
        l.add(measurement);
        Arrays.stream(boot).forEach(l::add);
        return l;
    }

    private static PublicKey loadKey(SealStorageConfig config) {
        String pem = config.approval_key_pem();
        if (pem == null || pem.isBlank()) {
            try {
                pem = Files.readString(Path.of(config.approval_key_file()));
            } catch (NoSuchFileException e) {
                throw new IllegalArgumentException("no approval key: " + config.approval_key_file() + " does not exist", e);
            } catch (IOException e) {
                throw new IllegalArgumentException("cannot read the approval key file "
                        + config.approval_key_file() + ": " + e, e);
            }
        }
        return parsePublicKey(pem);
    }

    /** A PEM "PUBLIC KEY" (X.509 SubjectPublicKeyInfo), EC or RSA. */
    public static PublicKey parsePublicKey(String pem) {
        String b64 = pem.replaceAll("-----(BEGIN|END) PUBLIC KEY-----", "").replaceAll("\\s", "");
        byte[] der;
        try {
            der = Base64.getDecoder().decode(b64);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the approval key is not a PEM PUBLIC KEY", e);
        }
        for (String alg : List.of("EC", "RSA")) {
            try {
                return KeyFactory.getInstance(alg).generatePublic(new X509EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                // try the next algorithm
            }
        }
        throw new IllegalArgumentException("the approval key is neither an EC nor an RSA public key");
    }

    // ---- SealStorage ---------------------------------------------------------------------------

    @Override
    public synchronized SealStatus status() {
        Approval a = readApproval("status").orElse(null);
        String device = tpm(() -> tpm.info().device(), "status", null);
        NvCounter c = tpm(() -> tpm.counter(counterIndex), "status", null);
        String problem = null;
        if (approvalKey == null) {
            problem = approvalKeyProblem;
        } else if (a == null) {
            problem = "no approval installed";
        } else {
            try {
                checkApproval("status", null, a, c);
                checkPcrValues("status", null, a);
            } catch (SealException e) {
                problem = e.getMessage();
            }
        }
        int count;
        try {
            count = list().size();
        } catch (SealException e) {
            count = -1;
        }
        return new SealStatus(device, pcrs, a == null ? -1 : a.version(), c.value(),
                approvalKey == null ? "none" : HexFormat.of().formatHex(sha256(approvalKey.getEncoded())),
                currentGeneration(), count,
                problem == null, problem);
    }

    @Override
    public synchronized List<String> list() {
        if (!Files.isDirectory(secrets)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(secrets)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".blob"))
                    .map(n -> n.substring(0, n.length() - 5)).sorted().toList();
        } catch (IOException e) {
            throw new SealException("list", null, Reason.IO, "cannot list " + secrets + ": " + e, e);
        }
    }

    @Override
    public synchronized void put(String name, byte[] secret) {
        checkName("put", name);
        if (secret == null) {
            throw new SealException("put", name, Reason.INVALID_INPUT, "no secret given");
        }
        init("put");
        int gen = currentGeneration();
        byte[] kek = unsealKek("put", name, gen);
        long version = 1;
        Path file = blobFile(name);
        if (Files.exists(file)) {
            try {
                version = Blob.parse(Files.readAllBytes(file)).version() + 1;
            } catch (IOException | Blob.Malformed e) {
                // a damaged old blob is replaced; its version is unknown, so start above any plausible one
                version = System.currentTimeMillis();
            }
        }
        try {
            AtomicFiles.write(file, Blob.encrypt(kek, gen, version, name, secret).toBytes());
        } catch (IOException e) {
            throw new SealException("put", name, Reason.IO, "cannot write " + file + ": " + e, e);
        } finally {
            Arrays.fill(kek, (byte) 0);
        }
    }

    @Override
    public synchronized byte[] get(String name) {
        checkName("get", name);
        Blob blob = readBlob("get", name);
        byte[] kek = unsealKek("get", name, blob.kekGeneration());
        try {
            return blob.decrypt(kek);
        } catch (AEADBadTagException e) {
            throw new SealException("get", name, Reason.CORRUPT_BLOB, "the blob " + blobFile(name)
                    + " does not authenticate (AES-GCM tag mismatch): it was modified or truncated", e);
        } finally {
            Arrays.fill(kek, (byte) 0);
        }
    }

    @Override
    public synchronized boolean delete(String name) {
        checkName("delete", name);
        try {
            boolean existed = Files.exists(blobFile(name));
            AtomicFiles.delete(blobFile(name));
            return existed;
        } catch (IOException e) {
            throw new SealException("delete", name, Reason.IO, "cannot delete " + blobFile(name) + ": " + e, e);
        }
    }

    @Override
    public synchronized ApprovalRequest approvalRequest() {
        init("approvalRequest");
        NvCounter c = tpm(() -> tpm.counter(counterIndex), "approvalRequest", null);
        List<Pcr> values = tpm(() -> tpm.readPcrs(pcrs.stream().mapToInt(Integer::intValue).toArray()),
                "approvalRequest", null);
        return new ApprovalRequest(values, counterIndex, c.name(), c.value());
    }

    @Override
    public synchronized void approve(Approval approval) {
        init("approve");
        NvCounter c = tpm(() -> tpm.counter(counterIndex), "approve", null);
        checkApproval("approve", null, approval, c);
        if (approval.version() - c.value() > MAX_VERSION_STEP) {
            throw new SealException("approve", null, Reason.INVALID_INPUT, "approval version " + approval.version()
                    + " is more than " + MAX_VERSION_STEP + " above the counter (" + c.value() + ")");
        }
        checkPcrValues("approve", null, approval);
        // the TPM must accept it before it replaces anything
        byte[] kek = unsealWith("approve", null, currentGeneration(), approval, c);
        Arrays.fill(kek, (byte) 0);
        try {
            AtomicFiles.write(dir.resolve("approval"), approval.toBytes());
        } catch (IOException e) {
            throw new SealException("approve", null, Reason.IO, "cannot write the approval: " + e, e);
        }
        // after the file: a crash in between leaves the new approval installed and the counter catching up later
        catchUp("approve", approval, c);
    }

    @Override
    public synchronized void rotate(Approval approvalOrNull) {
        if (approvalOrNull != null) {
            approve(approvalOrNull);
        }
        init("rotate");
        int oldGen = currentGeneration();
        Map<Integer, byte[]> keks = new HashMap<>();
        keks.put(oldGen, unsealKek("rotate", null, oldGen));
        int newGen = oldGen + 1;
        byte[] newKek = new byte[32];
        random.nextBytes(newKek);
        try {
            sealKek("rotate", newGen, newKek);
            for (String name : list()) {
                Blob b = readBlob("rotate", name);
                byte[] kek = keks.computeIfAbsent(b.kekGeneration(), g -> unsealKek("rotate", name, g));
                byte[] secret;
                try {
                    secret = b.decrypt(kek);
                } catch (AEADBadTagException e) {
                    throw new SealException("rotate", name, Reason.CORRUPT_BLOB, "the blob does not authenticate; "
                            + "rotation stopped, every blob is still readable with its own KEK generation", e);
                }
                AtomicFiles.write(blobFile(name), Blob.encrypt(newKek, newGen, b.version(), name, secret).toBytes());
                Arrays.fill(secret, (byte) 0);
            }
            for (int g = 1; g < newGen; g++) {
                AtomicFiles.delete(kekFile(g));
            }
        } catch (IOException e) {
            throw new SealException("rotate", null, Reason.IO, "rotation stopped: " + e
                    + "; every blob is still readable with its own KEK generation", e);
        } finally {
            Arrays.fill(newKek, (byte) 0);
            keks.values().forEach(k -> Arrays.fill(k, (byte) 0));
        }
    }

    // ---- KEK ---------------------------------------------------------------------------------

    /** Creates the folder, the counter and the first KEK if there are none yet. */
    private void init(String op) {
        try {
            Files.createDirectories(secrets);
        } catch (IOException e) {
            throw new SealException(op, null, Reason.IO, "cannot create " + secrets + ": " + e, e);
        }
        tpm(() -> tpm.counter(counterIndex), op, null);
        if (currentGeneration() == 0) {
            byte[] kek = new byte[32];
            random.nextBytes(kek);
            try {
                sealKek(op, 1, kek);
            } catch (IOException e) {
                throw new SealException(op, null, Reason.IO, "cannot write the sealed KEK: " + e, e);
            } finally {
                Arrays.fill(kek, (byte) 0);
            }
        }
    }

    private void sealKek(String op, int gen, byte[] kek) throws IOException {
        byte[] keyName = tpm.nameOf(approvalKey(op, null));
        KeyBlob sealed = tpm(() -> tpm.seal(kek, PolicyDigests.authorize(keyName, Approvals.POLICY_REF)), op, null);
        byte[] blob = sealed.toBytes();
        AtomicFiles.write(kekFile(gen), ByteBuffer.allocate(KEK_MAGIC.length + 2 + keyName.length + blob.length)
                .put(KEK_MAGIC).putShort((short) keyName.length).put(keyName).put(blob).array());
    }

    private byte[] unsealKek(String op, String name, int gen) {
        Approval a = readApproval(op).orElseThrow(() -> new SealException(op, name, Reason.NO_APPROVAL,
                "no approval is installed: ask the IT center to approve the platform's PCR values"));
        NvCounter c = tpm(() -> tpm.counter(counterIndex), op, name);
        checkApproval(op, name, a, c);
        checkPcrValues(op, name, a);
        byte[] kek = unsealWith(op, name, gen, a, c);
        catchUp(op, a, c);
        return kek;
    }

    private byte[] unsealWith(String op, String name, int gen, Approval a, NvCounter c) {
        byte[] file;
        try {
            file = Files.readAllBytes(kekFile(gen));
        } catch (NoSuchFileException e) {
            throw new SealException(op, name, Reason.CORRUPT_BLOB, "the sealed KEK of generation " + gen
                    + " (" + kekFile(gen) + ") is missing", e);
        } catch (IOException e) {
            throw new SealException(op, name, Reason.IO, "cannot read " + kekFile(gen) + ": " + e, e);
        }
        KeyBlob sealed;
        byte[] keyName;
        try {
            ByteBuffer b = ByteBuffer.wrap(file);
            byte[] magic = new byte[KEK_MAGIC.length];
            b.get(magic);
            if (!Arrays.equals(magic, KEK_MAGIC)) {
                throw new IllegalArgumentException("bad magic");
            }
            keyName = new byte[b.getShort()];
            b.get(keyName);
            byte[] rest = new byte[b.remaining()];
            b.get(rest);
            sealed = KeyBlob.fromBytes(rest);
        } catch (RuntimeException e) {
            throw new SealException(op, name, Reason.CORRUPT_BLOB, "the sealed KEK " + kekFile(gen)
                    + " is damaged: " + e.getMessage(), e);
        }
        if (!Arrays.equals(keyName, tpm.nameOf(approvalKey(op, name)))) {
            throw new SealException(op, name, Reason.APPROVAL_KEY, "the KEK of generation " + gen
                    + " is sealed to another approval key than the configured one");
        }
        byte[] operand = PolicyDigests.counterOperand(a.version());
        byte[] approved = Approvals.approvedPolicy(a.pcrs(), c.name(), a.version());
        List<PolicyStep> steps = List.of(new PolicyStep.PolicyPcr(a.pcrs().stream().map(Pcr::index).toList()),
                new PolicyStep.PolicyNv(counterIndex, operand, PolicyStep.NvComparison.UNSIGNED_LE),
                new PolicyStep.PolicyAuthorize(approvalKey, Approvals.POLICY_REF, approved, a.signature()));
        try {
            return tpm.unseal(sealed, steps);
        } catch (TpmPolicyException e) {
            throw new SealException(op, name, Reason.TPM_REFUSED, "the TPM refuses to release the KEK with approval "
                    + "version " + a.version() + ": " + e.getMessage(), e);
        } catch (TpmUnavailableException e) {
            throw new SealException(op, name, Reason.TPM_UNAVAILABLE, e.getMessage(), e);
        } catch (TpmException e) {
            throw new SealException(op, name, Reason.TPM_REFUSED, e.getMessage(), e);
        }
    }

    /** Moves the counter up to the approval's version (idempotent; finishes an interrupted approve). */
    private void catchUp(String op, Approval a, NvCounter c) {
        long value = c.value();
        while (value < a.version()) {
            value = tpm(() -> tpm.incrementCounter(counterIndex), op, null).value();
        }
    }

    private void checkApproval(String op, String name, Approval a, NvCounter c) {
        approvalKey(op, name);
        if (!new TreeSet<>(a.pcrs().stream().map(Pcr::index).toList()).equals(new TreeSet<>(pcrs))) {
            throw new SealException(op, name, Reason.INVALID_INPUT, "approval version " + a.version()
                    + " covers PCRs " + a.pcrs().stream().map(Pcr::index).toList() + ", the policy is " + pcrs);
        }
        if (!verifies(a, c.name())) {
            throw new SealException(op, name, Reason.APPROVAL_KEY, "approval version " + a.version()
                    + " is not signed by the configured approval key (" + shortFingerprint() + ")");
        }
        if (a.version() < c.value()) {
            throw new SealException(op, name, Reason.APPROVAL_ROLLBACK, "approval version " + a.version()
                    + " is older than the newest seen (" + c.value() + "): refused as a rollback");
        }
    }

    private void checkPcrValues(String op, String name, Approval a) {
        List<Pcr> now = tpm(() -> tpm.readPcrs(a.pcrs().stream().mapToInt(Pcr::index).toArray()), op, name);
        for (int i = 0; i < now.size(); i++) {
            if (!now.get(i).equals(a.pcrs().get(i))) {
                throw new SealException(op, name, Reason.PCR_MISMATCH, "PCR " + now.get(i).index() + " is "
                        + now.get(i).hex() + " but approval version " + a.version() + " approves "
                        + a.pcrs().get(i).hex() + ": the platform changed without an approval");
            }
        }
    }

    private boolean verifies(Approval a, byte[] counterName) {
        try {
            Signature s = Signature.getInstance(approvalKey.getAlgorithm().equals("EC") ? "SHA256withECDSA"
                    : "SHA256withRSA");
            s.initVerify(approvalKey);
            s.update(Approvals.signedMessage(a.pcrs(), counterName, a.version()));
            return s.verify(a.signature());
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return false;
        }
    }

    // ---- files -------------------------------------------------------------------------------

    private java.util.Optional<Approval> readApproval(String op) {
        Path f = dir.resolve("approval");
        try {
            return java.util.Optional.of(Approval.parse(Files.readString(f)));
        } catch (NoSuchFileException e) {
            return java.util.Optional.empty();
        } catch (IOException e) {
            throw new SealException(op, null, Reason.IO, "cannot read " + f + ": " + e, e);
        } catch (IllegalArgumentException e) {
            throw new SealException(op, null, Reason.INVALID_INPUT, "the installed approval " + f
                    + " is damaged: " + e.getMessage(), e);
        }
    }

    private Blob readBlob(String op, String name) {
        Path f = blobFile(name);
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(f);
        } catch (NoSuchFileException e) {
            throw new SealException(op, name, Reason.NO_SUCH_SECRET, "no secret of that name is stored", e);
        } catch (IOException e) {
            throw new SealException(op, name, Reason.IO, "cannot read " + f + ": " + e, e);
        }
        Blob b;
        try {
            b = Blob.parse(bytes);
        } catch (Blob.Malformed e) {
            throw new SealException(op, name, Reason.CORRUPT_BLOB, "the blob " + f + " is damaged: " + e.getMessage(), e);
        }
        if (!b.name().equals(name)) {
            throw new SealException(op, name, Reason.SWAPPED_BLOB, "the blob " + f + " holds the secret '" + b.name()
                    + "', not this one: the files were swapped or renamed");
        }
        return b;
    }

    private int currentGeneration() {
        try (Stream<Path> s = Files.exists(dir) ? Files.list(dir) : Stream.empty()) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.matches("kek-\\d+\\.sealed"))
                    .mapToInt(n -> Integer.parseInt(n.substring(4, n.length() - 7))).max().orElse(0);
        } catch (IOException e) {
            throw new SealException("kek", null, Reason.IO, "cannot list " + dir + ": " + e, e);
        }
    }

    private Path kekFile(int gen) {
        return dir.resolve("kek-" + gen + ".sealed");
    }

    private Path blobFile(String name) {
        return secrets.resolve(name + ".blob");
    }

    private static void checkName(String op, String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new SealException(op, name, Reason.INVALID_INPUT,
                    "a secret's name is 1 to 128 characters of [A-Za-z0-9._-], not starting with a dot");
        }
    }

    private <T> T tpm(java.util.function.Supplier<T> call, String op, String name) {
        try {
            return call.get();
        } catch (TpmUnavailableException e) {
            throw new SealException(op, name, Reason.TPM_UNAVAILABLE, e.getMessage(), e);
        } catch (TpmException e) {
            throw new SealException(op, name, Reason.TPM_REFUSED, e.getMessage(), e);
        }
    }

    private PublicKey approvalKey(String op, String name) {
        if (approvalKey == null) {
            throw new SealException(op, name, Reason.APPROVAL_KEY, approvalKeyProblem);
        }
        return approvalKey;
    }

    private String shortFingerprint() {
        return "SHA-256 " + HexFormat.of().formatHex(sha256(approvalKey.getEncoded())).substring(0, 16);
    }

    private static byte[] sha256(byte[] b) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(b);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
