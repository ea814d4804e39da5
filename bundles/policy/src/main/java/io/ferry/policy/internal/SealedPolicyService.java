package io.ferry.policy.internal;

import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.interfaces.ECPublicKey;
import java.text.ParseException;
import java.time.Duration;
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
import com.nimbusds.jose.util.JSONObjectUtils;

import io.ferry.api.attestation.SecurityLevels;
import io.ferry.api.itcenter.AccessDeniedException;
import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.itcenter.ItCenterLink;

import io.ferry.api.policy.Decision;
import io.ferry.api.policy.DecisionAudit;
import io.ferry.api.policy.DecisionRequest;
import io.ferry.api.policy.PolicyException;
import io.ferry.api.policy.PolicyException.Reason;
import io.ferry.api.policy.PolicyService;
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
    private static final Duration FETCH_TIMEOUT = Duration.ofSeconds(30);
    private static final int MAX_VERIFIED = 1024;
    private static final Pattern UUID = Pattern.compile(
            "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

    private final SealStorage storage;
    private final NimbusPolicySigner signer = new NimbusPolicySigner();
    private final SecurityLevels levels;
    /** Where the key comes from, to read it again while it is missing; null when it was given. */
    private final PolicyServiceConfig config;
    /** Null while none is configured or it cannot be read: then {@link #keyProblem} says why. */
    private volatile ECPublicKey key;
    private volatile String keyProblem;

    /** A JWS (exactly as read or received) to the policy it verified to, with this key and these levels. */
    private final java.util.Map<String, SignedPolicy> verified = new java.util.concurrent.ConcurrentHashMap<>();
    /** Off only to measure what the cache saves (bench/run policy). */
    volatile boolean cacheVerified = true;

    /** The agent's link to its IT center, for {@link #fetchPolicy}; absent until the agent has one. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile ItCenterLink link;

    /** Where decisions are reported; the IT center client registers one. Empty: decisions are logged. */
    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile List<DecisionAudit> audits = List.of();

    @Activate
    public SealedPolicyService(PolicyServiceConfig config, @Reference SealStorage storage) {
        this(storage, Levels.parse(config.security_levels()), loadKey(config), config);
    }

    SealedPolicyService(SealStorage storage, SecurityLevels levels, Object keyOrProblem) {
        this(storage, levels, keyOrProblem, null);
    }

    private SealedPolicyService(SealStorage storage, SecurityLevels levels, Object keyOrProblem,
            PolicyServiceConfig config) {
        this.storage = storage;
        this.levels = levels;
        this.config = config;
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
        SignedPolicy incoming = verified(jws); // a VM moving back and forth brings the same bytes each time
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
    public SignedPolicy fetchPolicy(String vm) {
        ItCenterLink l = link;
        if (l == null) {
            throw new PolicyException(Reason.ITCENTER, "this agent has no link to its IT center (not enrolled, or "
                    + "the enrolment feature is not installed): import the signed policy file with policy:import");
        }
        String body;
        try {
            body = l.call("GET", "vms/" + URLEncoder.encode(vm, StandardCharsets.UTF_8).replace("+", "%20")
                    + "/policy", null, FETCH_TIMEOUT);
        } catch (ItCenterException e) {
            if (e.reason() == ItCenterException.Reason.NOT_FOUND) {
                throw new PolicyException(Reason.NO_SUCH_POLICY, "the IT center " + l.uri() + " has published no "
                        + "policy for VM '" + vm + "': " + e.getMessage(), e);
            }
            throw new PolicyException(Reason.ITCENTER, "the IT center " + l.uri() + " did not provide the policy of "
                    + "VM '" + vm + "': " + e.getMessage(), e);
        } catch (AccessDeniedException e) {
            throw new PolicyException(Reason.ITCENTER, "the IT center " + l.uri() + " refused this agent: "
                    + e.getMessage(), e);
        }
        String jws;
        try {
            jws = JSONObjectUtils.getString(JSONObjectUtils.parse(body), "jws");
        } catch (ParseException e) {
            throw new PolicyException(Reason.ITCENTER, "the IT center's answer is not a published policy: "
                    + e.getMessage(), e);
        }
        if (jws == null) {
            throw new PolicyException(Reason.ITCENTER, "the IT center's answer holds no signed policy (no 'jws')");
        }
        // the answer counts no more than a file: verified here, and it must be the policy asked for
        SignedPolicy fetched = verified(jws);
        String uuid = fetched.policy().vm().uuid();
        if (!vm.equalsIgnoreCase(uuid) && !vm.equals(fetched.policy().vm().name())) {
            throw new PolicyException(Reason.WRONG_VM, "asked the IT center for VM '" + vm + "' and got the policy of"
                    + " VM '" + fetched.policy().vm().name() + "' (" + uuid + ")");
        }
        return importPolicy(jws, uuid);
    }

    @Override
    public List<SignedPolicy> list() {
        List<SignedPolicy> result = new ArrayList<>();
        for (String name : names()) {
            try {
                readStored(name).map(this::verified).ifPresent(result::add);
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
            return readStored(PREFIX + vm.toLowerCase(Locale.ROOT)).map(this::verified);
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

    /**
     * Verifies a policy, remembering the result for exactly that JWS: a stored blob is read (unsealed) on every
     * use, a migrating VM brings its policy along on every move, and the same bytes under the same key and levels
     * verify to the same policy, so only bytes seen for the first time pay for the ES256 verification and parsing.
     * A JWS that fails is not remembered: it fails again, with its reason.
     */
    private SignedPolicy verified(String jws) {
        ECPublicKey k = requireKey();
        if (!cacheVerified) {
            return signer.verify(jws, levels, k);
        }
        SignedPolicy known = verified.get(jws);
        if (known != null) {
            return known;
        }
        SignedPolicy fresh = signer.verify(jws, levels, k);
        if (verified.size() >= MAX_VERIFIED) {
            verified.clear();
        }
        verified.put(jws, fresh);
        return fresh;
    }

    /** The IT center key; while it is missing, read again on every use (an operator may install it any time). */
    private ECPublicKey requireKey() {
        ECPublicKey k = key;
        if (k == null && config != null) {
            Object loaded = loadKey(config);
            if (loaded instanceof ECPublicKey e) {
                key = k = e;
                LOG.info("The IT center policy key {} is installed", NimbusPolicySigner.keyId(e));
            } else {
                keyProblem = String.valueOf(loaded);
            }
        }
        if (k == null) {
            throw new PolicyException(Reason.NO_KEY, keyProblem);
        }
        return k;
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
