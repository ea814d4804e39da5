package io.ferry.updater.internal;

import java.time.Duration;
import java.util.function.Consumer;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import io.ferry.api.attestation.RemoteAttestation;
import io.ferry.api.itcenter.ItCenterLink;
import io.ferry.api.seal.Approval;
import io.ferry.api.seal.SealStorage;
import io.ferry.api.updates.ApprovalRenewal;

/**
 * {@link ApprovalRenewal} on the agent: attests, asks the IT center for an approval of the PCR values it
 * just proved, installs it. Every part is an optional dynamic greedy reference, so a hot update of any of
 * them is picked up, and a missing one is named when renewal is asked for.
 */
@Component(service = ApprovalRenewal.class)
public final class ApprovalRenewalService implements ApprovalRenewal {

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile ItCenterLink link;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile SealStorage seal;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile RemoteAttestation attestation;

    private final Renewal renewal;

    @Activate
    public ApprovalRenewalService() {
        this.renewal = new Renewal(() -> link, () -> seal, () -> attestation, Duration.ofSeconds(30));
    }

    @Override
    public Approval renew(Consumer<String> progress) {
        return renewal.renew(progress == null ? s -> { } : progress);
    }
}
