package io.ferry.itcenter.vms;

import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;

import io.ferry.api.attestation.SecurityLevels;
import io.ferry.api.itcenter.AuditEntry;
import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.itcenter.ItCenterException.Reason;
import io.ferry.api.policy.Policy;
import io.ferry.api.policy.PolicyProvisioning;
import io.ferry.api.policy.PolicySigner;
import io.ferry.api.policy.PublishedVm;
import io.ferry.api.policy.SignedPolicy;
import io.ferry.itcenter.internal.Store;

/**
 * The IT center's registry of VM images and their signed policies: {@code itcenter:publish-vm}
 * validates and signs a policy document with the IT center's policy key (through the policy
 * bundle's {@link PolicySigner}), and records the image and the signed policy with the audit event
 * {@code policy.published} in one transaction. A VM's policy versions only grow: the registry
 * refuses to publish a version that is not above the newest one (the agents would refuse it as a
 * rollback anyway), except the very same document again, which changes nothing.
 */
@Component(service = {PolicyProvisioning.class, VmRegistry.class}, configurationPid = "io.ferry.itcenter.vms")
@Designate(ocd = VmsConfig.class)
public final class VmRegistry implements PolicyProvisioning {

    static final String PUBLISHED = "policy.published";
    private static final Pattern UUID = Pattern.compile(
            "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
    private static final Pattern DIGEST = Pattern.compile("sha256:[0-9a-f]{64}");

    private final Store store;
    private final PolicySigner signer;
    private final PolicyKey key;
    private final String keyId;
    private final SecurityLevels levels;
    private final Clock clock;

    @Activate
    public VmRegistry(VmsConfig config, @Reference Store store, @Reference PolicySigner signer) {
        this(store, signer, openKey(config), levels(config.security_levels()), Clock.systemUTC());
    }

    VmRegistry(Store store, PolicySigner signer, PolicyKey key, SecurityLevels levels, Clock clock) {
        this.store = store;
        this.signer = signer;
        this.key = key;
        this.levels = levels;
        this.clock = clock;
        // the kid of a signature made with this key: also checks that the key pair signs and verifies
        this.keyId = signer.sign(probe(), levels, key.pair()).keyId();
    }

    private static PolicyKey openKey(VmsConfig config) {
        Path home = Path.of(System.getProperty("karaf.data", "data"), "itcenter", "policy").toAbsolutePath();
        Path p12 = config.policy_key_store().isBlank() ? home.resolve("policy-key.p12")
                : Path.of(config.policy_key_store());
        Path pass = p12.resolveSibling(stem(p12) + ".pass");
        Path pub = config.policy_public_key_file().isBlank() ? p12.resolveSibling(stem(p12) + ".pem")
                : Path.of(config.policy_public_key_file());
        return PolicyKey.openOrCreate(p12, pass, pub);
    }

    private static String stem(Path p) {
        String n = p.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot > 0 ? n.substring(0, dot) : n;
    }

    static SecurityLevels levels(String commaSeparated) {
        return new SecurityLevels(List.of(commaSeparated.strip().split("\\s*,\\s*")));
    }

    @Override
    public PublishedVm publish(String vmName, String document, String imageDigest, String actor) {
        require(vmName != null && !vmName.isBlank(), "the VM's name is required");
        require(document != null, "a policy document is required");
        String who = actor == null || actor.isBlank() ? "unknown" : actor.length() > 200 ? actor.substring(0, 200)
                : actor;
        Policy parsed = signer.parse(document, levels); // PolicyFormatException with every error
        if (!parsed.vm().name().equals(vmName)) {
            throw new ItCenterException(Reason.INVALID, "the policy is for VM '" + parsed.vm().name() + "', not for '"
                    + vmName + "'");
        }
        if (imageDigest != null) {
            require(DIGEST.matcher(imageDigest).matches(), "the image digest is sha256: and 64 lower-case hex digits");
            if (!imageDigest.equals(parsed.vm().imageDigest())) {
                throw new ItCenterException(Reason.INVALID, "the policy names image " + parsed.vm().imageDigest()
                        + " but the image is " + imageDigest + ": the policy must name the image it ships with");
            }
        }
        SignedPolicy signed = signer.sign(document, levels, key.pair());
        Policy p = signed.policy();
        String uuid = p.vm().uuid().toLowerCase(Locale.ROOT);
        return store.transaction(t -> {
            VmTables vms = new VmTables(t.connection());
            Optional<PublishedVm> sameName = vms.byName(p.vm().name());
            if (sameName.isPresent() && !sameName.get().uuid().equals(uuid)) {
                throw new ItCenterException(Reason.CONFLICT, "the name '" + p.vm().name() + "' belongs to VM "
                        + sameName.get().uuid() + " already; this policy is for " + uuid);
            }
            Optional<PublishedVm> held = vms.byUuid(uuid, true);
            if (held.isPresent()) {
                PublishedVm h = held.get();
                if (p.version() == h.version() && document.equals(payload(h))) {
                    return h; // the same document again
                }
                if (p.version() <= h.version()) {
                    throw new ItCenterException(Reason.CONFLICT, "the registry holds version " + h.version()
                            + " of the policy of VM '" + h.name() + "'; publish version " + (h.version() + 1)
                            + " or higher (agents refuse older versions, and a different document with the same one)");
                }
            }
            java.time.Instant now = clock.instant();
            PublishedVm vm = new PublishedVm(p.vm().name(), uuid, p.vm().imageDigest(), p.owner(), p.version(),
                    signed.keyId(), now, who, signed.jws());
            if (held.isPresent()) {
                vms.insertPolicy(uuid, p.version(), signed.keyId(), signed.jws(), now, who);
                vms.updateImage(vm);
            } else {
                vms.insertImage(vm);
                vms.insertPolicy(uuid, p.version(), signed.keyId(), signed.jws(), now, who);
            }
            t.appendAudit(new AuditEntry(PUBLISHED, null, uuid, who, "name=" + vm.name() + " version=" + vm.version()
                    + " image=" + vm.imageDigest() + " owner=" + vm.owner() + " rules=" + p.rules().size() + " kid="
                    + vm.keyId() + (held.isPresent() ? " previous=" + held.get().version() : "")), now);
            return vm;
        });
    }

    @Override
    public List<PublishedVm> vms() {
        return store.transaction(t -> new VmTables(t.connection()).all());
    }

    @Override
    public Optional<PublishedVm> vm(String nameOrUuid) {
        if (nameOrUuid == null || nameOrUuid.isEmpty() || nameOrUuid.length() > 128) {
            return Optional.empty();
        }
        return store.transaction(t -> {
            VmTables vms = new VmTables(t.connection());
            if (UUID.matcher(nameOrUuid).matches()) {
                return vms.byUuid(nameOrUuid.toLowerCase(Locale.ROOT), false);
            }
            return vms.byName(nameOrUuid);
        });
    }

    /** How many policies were ever published for a VM. */
    int history(String uuid) {
        return store.transaction(t -> new VmTables(t.connection()).history(uuid));
    }

    @Override
    public String policyKeyPem() {
        return key.publicPem();
    }

    @Override
    public String policyKeyId() {
        return keyId;
    }

    SecurityLevels securityLevels() {
        return levels;
    }

    /** The document inside a stored signed policy (the registry's own, verified when it was made). */
    private String payload(PublishedVm vm) {
        return signer.verify(vm.jws(), levels, key.publicKey()).document();
    }

    /** A minimal valid document, signed once at start to learn the kid and prove the key pair works. */
    private String probe() {
        return "ferry-policy: 1\nversion: 1\nvm:\n  name: probe\n  uuid: 00000000-0000-0000-0000-000000000000\n"
                + "  image-digest: sha256:" + "0".repeat(64) + "\nowner: probe\nrules:\n  - id: none\n    effect: deny\n"
                + "    direction: both\n    users: ['*']\n    devices: ['*']\n";
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new ItCenterException(Reason.INVALID, message);
        }
    }
}
