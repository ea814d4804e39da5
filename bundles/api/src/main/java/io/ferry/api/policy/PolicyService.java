package io.ferry.api.policy;

import java.util.List;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

import io.ferry.api.attestation.SecurityLevels;

/**
 * The agent's migration policies: held in seal storage, one per VM, each signed by the IT center.
 * Failures throw {@link PolicyException} with a {@link PolicyException.Reason}; a refused policy
 * changes nothing.
 */
@ProviderType
public interface PolicyService {

    /**
     * Verifies a signed policy (see {@link PolicySigner#verify}) against the configured IT center
     * key, refuses it when older than the policy held for its VM (or of the same version with
     * another document), and stores it sealed. Importing the held policy again changes nothing.
     *
     * @return the policy as stored
     */
    SignedPolicy importPolicy(String jws);

    /**
     * As {@link #importPolicy(String)}, and the policy must be for the VM with that UUID
     * (migrate-in: the policy that arrives with a VM must be that VM's).
     */
    SignedPolicy importPolicy(String jws, String expectedVmUuid);

    /**
     * Asks the IT center for the policy it published for a VM ({@code GET /api/v1/vms/<vm>/policy}
     * through the agent's {@link io.ferry.api.itcenter.ItCenterLink}) and imports it as
     * {@link #importPolicy(String)} does: the IT center's answer is trusted no more than a file.
     *
     * @param vm the VM's name or UUID as the IT center's registry knows it
     * @throws PolicyException ITCENTER when there is no link to the IT center, it cannot be reached or
     *                         refuses, NO_SUCH_POLICY when it published none for that VM, or any reason of
     *                         {@link #importPolicy(String)}
     */
    SignedPolicy fetchPolicy(String vm);

    /** The held policies, by VM name. */
    List<SignedPolicy> list();

    /** The policy held for a VM, by UUID or name. */
    Optional<SignedPolicy> get(String vm);

    /**
     * Decides a request with the policy held for its VM, and reports the decision to every
     * {@link DecisionAudit}. Never throws for a missing or unreadable policy: that is a DENY whose
     * reason says so.
     */
    Decision decide(DecisionRequest request);

    /**
     * What {@link #decide} would answer, without reporting it: a what-if for the console
     * ({@code policy:check}), not a decision on a migration.
     */
    Decision check(DecisionRequest request);

    /** The security levels decisions use, lowest first (the verifier's ordering, see {@code security.levels}). */
    SecurityLevels levels();
}
