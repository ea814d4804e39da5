package io.ferry.policy.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.interfaces.ECPublicKey;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.nimbusds.jose.JWSObject;

import io.ferry.api.policy.Decision;
import io.ferry.api.policy.DecisionAudit;
import io.ferry.api.policy.DecisionRequest;
import io.ferry.api.policy.PolicyException;
import io.ferry.api.policy.PolicyException.Reason;
import io.ferry.api.policy.PolicyService;
import io.ferry.api.policy.SecurityLevels;
import io.ferry.api.policy.SignedPolicy;
import io.ferry.api.seal.SealException;
import io.ferry.api.seal.SealStorage;

/**
 * The agent's policies, each stored in seal storage as the signed JWS under {@code policy.<vm-uuid>}
 * (seal storage names allow no '/'). Every read verifies the signature again, so a blob put there by
 * other means (for example {@code seal:put}) is never used, and a platform whose seal storage no
 * longer unseals denies every migration.
 */
@Component(service = PolicyService.class, configurationPid = "io.ferry.policy")
@Designate(ocd = PolicyServiceConfig.class)
public final class SealedPolicyService implements PolicyService {

    /** Prefix of the seal-storage names of policies. */
    public static final String PREFIX = "policy.";

    private static final Logger LOG = LoggerFactory.getLogger(SealedPolicyService.class);
    private static final Pattern UUID = Pattern.compile(
            "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

    private final SealStorage storage;
    private final NimbusPolicySigner signer = new NimbusPolicySigner();
    private final SecurityLevels levels;
    /** Null when none is configured or it cannot be read: then {@link #keyProblem} says why. */
    private final ECPublicKey key;
    private final String keyProblem;

    /** Where decisions are reported; the IT center client registers one. Empty: decisions are logged. */
    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile List<DecisionAudit> audits = List.of();

    @Activate
    public SealedPolicyService(PolicyServiceConfig config, @Reference SealStorage storage) {
        this(storage, SecurityLevels.parse(config.security_levels()), loadKey(config));
    }

    SealedPolicyService(SealStorage storage, SecurityLevels levels, Object keyOrProblem) {
        this.storage = storage;
        this.levels = levels;
        this.key = keyOrProblem instanceof ECPublicKey k ? k : null;
        this.keyProblem = keyOrProblem instanceof ECPublicKey ? null : String.valueOf(keyOrProblem);
    }

    /** The configured key, or a String saying why there is none. */
    private static Object loadKey(PolicyServiceConfig config) {
        String pem = config.itcenter_key_pem();
        String source = "itcenter.key.pem";
        try {
            if (pem == null || pem.isBlank()) {
                source = config.itcenter_key_file();
                pem = Files.readString(Path.of(source), StandardCharsets.US_ASCII);
            }
            ECPublicKey k = Pem.ecPublicKey(pem);
            NimbusPolicySigner.keyId(k); // P-256 only
            return k;
        } catch (NoSuchFileException e) {
            return "no IT center policy key: " + source + " does not exist (install the IT center's policy public "
                    + "key there, or set itcenter.key.pem in io.ferry.policy)";
        } catch (IOException | RuntimeException e) {
            return "the IT center policy key in " + source + " cannot be used: " + e.getMessage();
        }
    }

    @Override
    public SignedPolicy importPolicy(String jws) {
        return importPolicy(jws, null);
    }

    @Override
    public synchronized SignedPolicy importPolicy(String jws, String expectedVmUuid) {
        SignedPolicy incoming = signer.verify(jws, levels, requireKey());
        String uuid = incoming.policy().vm().uuid();
        if (expectedVmUuid != null && !expectedVmUuid.equalsIgnoreCase(uuid)) {
            throw new PolicyException(Reason.WRONG_VM, "the policy is for VM '" + incoming.policy().vm().name()
                    + "' (" + uuid + "), not for " + expectedVmUuid.toLowerCase(Locale.ROOT));
        }
        String name = PREFIX + uuid;
        Optional<String> held = readStored(name);
        if (held.isPresent()) {
            long heldVersion = PolicyParser.peekVersion(payload(held.get()));
            long version = incoming.policy().version();
            if (version < heldVersion) {
                throw new PolicyException(Reason.ROLLBACK, "this agent holds version " + heldVersion
                        + " of the policy of VM '" + incoming.policy().vm().name() + "'; version " + version
                        + " is older and refused");
            }
            if (version == heldVersion) {
                if (payload(held.get()).equals(incoming.document())) {
                    return incoming; // the same policy again: nothing to do
                }
                throw new PolicyException(Reason.VERSION_CONFLICT, "this agent holds another document with the same "
                        + "version " + version + " for VM '" + incoming.policy().vm().name()
                        + "'; the IT center signs every change with a higher version");
            }
        }
        try {
            storage.put(name, incoming.jws().getBytes(StandardCharsets.US_ASCII));
        } catch (SealException e) {
            throw new PolicyException(Reason.STORAGE, "seal storage refused the policy: " + e.getMessage(), e);
        }
        LOG.info("Imported policy version {} for VM {} ({}), signed by {}", incoming.policy().version(),
                incoming.policy().vm().name(), uuid, incoming.keyId());
        return incoming;
    }

    @Override
    public List<SignedPolicy> list() {
        List<SignedPolicy> result = new ArrayList<>();
        for (String name : names()) {
            try {
                readStored(name).map(this::verifyStored).ifPresent(result::add);
            } catch (PolicyException e) {
                LOG.warn("The stored policy {} is not usable: {}", name, e.getMessage());
            }
        }
        result.sort(Comparator.comparing((SignedPolicy p) -> p.policy().vm().name())
                .thenComparing(p -> p.policy().vm().uuid()));
        return result;
    }

    @Override
    public Optional<SignedPolicy> get(String vm) {
        if (UUID.matcher(vm).matches()) {
            return readStored(PREFIX + vm.toLowerCase(Locale.ROOT)).map(this::verifyStored);
        }
        List<SignedPolicy> named = list().stream().filter(p -> p.policy().vm().name().equals(vm)).toList();
        if (named.size() > 1) {
            throw new PolicyException(Reason.NO_SUCH_POLICY, named.size() + " policies name a VM '" + vm
                    + "'; give its UUID: " + named.stream().map(p -> p.policy().vm().uuid()).toList());
        }
        return named.stream().findFirst();
    }

    @Override
    public Decision decide(DecisionRequest request) {
        return decide(request, true);
    }

    @Override
    public Decision check(DecisionRequest request) {
        return decide(request, false);
    }

    @Override
    public SecurityLevels levels() {
        return levels;
    }

    private Decision decide(DecisionRequest request, boolean report) {
        SignedPolicy policy = null;
        Decision decision;
        try {
            policy = get(request.vm()).orElse(null);
            decision = policy == null
                    ? Decision.denyWithoutPolicy("this agent holds no policy for VM '" + request.vm()
                            + "': without one nothing is allowed")
                    : Evaluator.decide(policy.policy(), request, levels);
        } catch (PolicyException e) {
            decision = Decision.denyWithoutPolicy("the policy of VM '" + request.vm() + "' cannot be used: "
                    + e.getMessage());
        }
        if (report) {
            report(request, decision, policy);
        }
        return decision;
    }

    private void report(DecisionRequest request, Decision decision, SignedPolicy policy) {
        List<DecisionAudit> sinks = audits;
        if (sinks.isEmpty()) {
            LOG.info("Policy decision (no audit sink): {} {} migrate {} {} to {}: {}", decision.effect(),
                    request.user(), request.vm(), request.direction().word(), request.target().name(),
                    decision.reason());
            return;
        }
        for (DecisionAudit sink : sinks) {
            try {
                sink.decided(request, decision, policy);
            } catch (RuntimeException e) {
                LOG.warn("The decision audit {} failed; the decision stands: {}", sink, e.toString());
            }
        }
    }

    private SignedPolicy verifyStored(String jws) {
        return signer.verify(jws, levels, requireKey());
    }

    private ECPublicKey requireKey() {
        if (key == null) {
            throw new PolicyException(Reason.NO_KEY, keyProblem);
        }
        return key;
    }

    private List<String> names() {
        try {
            return storage.list().stream().filter(n -> n.startsWith(PREFIX)).toList();
        } catch (SealException e) {
            throw new PolicyException(Reason.STORAGE, "seal storage cannot list the policies: " + e.getMessage(), e);
        }
    }

    private Optional<String> readStored(String name) {
        if (!names().contains(name)) {
            return Optional.empty();
        }
        try {
            return Optional.of(new String(storage.get(name), StandardCharsets.US_ASCII));
        } catch (SealException e) {
            if (e.reason() == SealException.Reason.NO_SUCH_SECRET) {
                return Optional.empty();
            }
            throw new PolicyException(Reason.STORAGE, "seal storage does not release " + name + ": "
                    + e.getMessage(), e);
        }
    }

    /** The document inside a stored JWS, unverified (only for the held version number). */
    private static String payload(String jws) {
        try {
            return JWSObject.parse(jws).getPayload().toString();
        } catch (java.text.ParseException e) {
            return "";
        }
    }
}
