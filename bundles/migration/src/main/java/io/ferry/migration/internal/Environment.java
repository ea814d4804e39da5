package io.ferry.migration.internal;

import io.ferry.api.attestation.PeerAttestation;
import io.ferry.api.channel.AgentChannels;
import io.ferry.api.hypervisor.Hypervisor;
import io.ferry.api.itcenter.ItCenterLink;
import io.ferry.api.policy.PolicyService;
import io.ferry.api.protection.HypervisorProtection;

/**
 * The services a migration uses, as they are at the moment of asking: the component hands out
 * its dynamic references, tests hand out mocks. A method returns null when the service is absent.
 */
public interface Environment {

    AgentChannels channels();

    PolicyService policy();

    /** The hypervisor of that Ferry host (null: the default), or null when there is none. */
    Hypervisor hypervisor(String host);

    PeerAttestation attestation();

    HypervisorProtection protection();

    ItCenterLink itCenter();
}
