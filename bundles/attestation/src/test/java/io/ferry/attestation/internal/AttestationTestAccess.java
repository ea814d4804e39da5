package io.ferry.attestation.internal;

import java.util.function.Supplier;

import io.ferry.api.attestation.Attester;
import io.ferry.api.attestation.PeerAttestation;
import io.ferry.api.itcenter.ItCenterLink;

/** For tests outside this bundle (SecureMigrationIT): the real peer attestation over a given attester and link. */
public final class AttestationTestAccess {

    private AttestationTestAccess() {
    }

    /** {@link ChannelPeerAttestation} with this attester (the agent's TPM) and this link to the IT center. */
    public static PeerAttestation peerAttestation(Attester attester, Supplier<ItCenterLink> link) {
        return new ChannelPeerAttestation(attester, link);
    }
}
