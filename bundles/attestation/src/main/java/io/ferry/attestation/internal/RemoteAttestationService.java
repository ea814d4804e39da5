package io.ferry.attestation.internal;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Supplier;

import org.apache.karaf.features.FeaturesService;
import org.apache.karaf.features.Repository;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import io.ferry.api.attestation.AttestationException;
import io.ferry.api.attestation.AttestationOutcome;
import io.ferry.api.attestation.AttestationRecord;
import io.ferry.api.attestation.AttestationResult;
import io.ferry.api.attestation.Attester;
import io.ferry.api.attestation.Evidence;
import io.ferry.api.attestation.MeasurementEntry;
import io.ferry.api.attestation.Measurer;
import io.ferry.api.attestation.PeerAttestation;
import io.ferry.api.attestation.Reason;
import io.ferry.api.attestation.RemoteAttestation;
import io.ferry.api.attestation.Remediation;
import io.ferry.api.attestation.Verdict;
import io.ferry.api.channel.AgentAddress;
import io.ferry.api.channel.AgentChannels;
import io.ferry.api.channel.Channel;
import io.ferry.api.itcenter.ItCenterLink;
import io.ferry.attestation.wire.EvidenceSubmission;
import io.ferry.attestation.wire.NonceGrant;

/**
 * Attestation through the IT center, with remediation (the paper's Figure 3): a nonce, evidence, the
 * verdict; below the level asked for, each feature the IT center names is installed as
 * {@code feature:install -u --no-auto-refresh} does ({@link FeaturesService#installFeature} with
 * {@code Upgrade} and {@code NoAutoRefreshBundles}: consumers see new services through the API
 * packages, and a refresh would restart unrelated bundles, a running migration's among them), the
 * agent measures (the bundle listener has measured the updated bundles already; {@code measureAll}
 * catches the rest) and attests again, until it qualifies, nothing can be installed, installing changed
 * nothing, or the rounds are used up.
 */
@Component(service = RemoteAttestation.class)
public final class RemoteAttestationService implements RemoteAttestation {

    private final Attester attester;
    private final Measurer measurer;
    private final ItCenterClient itCenter;
    private final Supplier<FeaturesService> features;
    private final Supplier<AgentChannels> channels;
    private final Supplier<PeerAttestation> peers;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile ItCenterLink link;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile FeaturesService featuresService;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile AgentChannels agentChannels;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile PeerAttestation peerAttestation;

    @Activate
    public RemoteAttestationService(@Reference Attester attester, @Reference Measurer measurer) {
        this.attester = attester;
        this.measurer = measurer;
        this.itCenter = new ItCenterClient(() -> link);
        this.features = () -> featuresService;
        this.channels = () -> agentChannels;
        this.peers = () -> peerAttestation;
    }

    /** For tests. */
    RemoteAttestationService(Attester attester, Measurer measurer, Supplier<ItCenterLink> link,
            Supplier<FeaturesService> features, Supplier<AgentChannels> channels, Supplier<PeerAttestation> peers) {
        this.attester = attester;
        this.measurer = measurer;
        this.itCenter = new ItCenterClient(link);
        this.features = features;
        this.channels = channels;
        this.peers = peers;
    }

    @Override
    public AttestationOutcome attest(String requiredLevel, int maxRounds, Consumer<String> progress) {
        if (maxRounds < 1) {
            throw new IllegalArgumentException("at least one round");
        }
        List<String> installed = new ArrayList<>();
        List<Remediation.FeatureUpdate> tried = new ArrayList<>();
        AttestationResult result = null;
        for (int round = 1; round <= maxRounds; round++) {
            progress.accept("Round " + round + ": asking the IT center for a nonce");
            NonceGrant grant = itCenter.nonce(null, new byte[0]);
            Evidence evidence = attester.attest(grant.nonce(), grant.binding());
            progress.accept("Round " + round + ": quoted PCR " + attester.measurementPcr() + " with "
                    + evidence.log().size() + " measurement events; the IT center judges them");
            result = itCenter.submit(new EvidenceSubmission(null, requiredLevel, evidence));
            progress.accept("Round " + round + ": " + describe(result.verdict()));
            if (result.qualifies()) {
                return new AttestationOutcome(result, round, installed, null);
            }
            Remediation r = result.remediation();
            if (!r.actionable()) {
                return new AttestationOutcome(result, round, installed, "nothing to install fixes it: "
                        + (r.unresolved().isEmpty() ? "the IT center named no remediation"
                                : String.join("; ", r.unresolved())));
            }
            if (round == maxRounds) {
                return new AttestationOutcome(result, round, installed, "still " + result.verdict().level()
                        + " after " + round + " rounds (the IT center still names " + r.features() + ")");
            }
            if (tried.containsAll(r.features())) {
                return new AttestationOutcome(result, round, installed, "installing " + r.features()
                        + " did not change the verdict" + (r.unresolved().isEmpty() ? "" : "; "
                                + String.join("; ", r.unresolved())));
            }
            install(r, progress, installed);
            tried.addAll(r.features());
            List<MeasurementEntry> measured = measurer.measureAll();
            progress.accept("Measured: " + (measured.isEmpty() ? "no further changes (the updates were measured "
                    + "as they were installed)" : measured.size() + " changed components"));
        }
        throw new IllegalStateException("unreachable");
    }

    private void install(Remediation r, Consumer<String> progress, List<String> installed) {
        FeaturesService fs = features.get();
        if (fs == null) {
            throw new AttestationException("the IT center names features to install " + r.features()
                    + ", but Karaf's FeaturesService is not available");
        }
        try {
            if (r.repository() != null && !hasRepository(fs, r.repository())) {
                progress.accept("Adding the features repository " + r.repository());
                fs.addRepository(URI.create(r.repository()));
            }
            for (Remediation.FeatureUpdate u : r.features()) {
                progress.accept("Installing " + u.feature() + "/" + u.version() + " (upgrade) for " + u.component());
                fs.installFeature(u.feature(), u.version(),
                        EnumSet.of(FeaturesService.Option.Upgrade, FeaturesService.Option.NoAutoRefreshBundles));
                installed.add(u.feature() + "/" + u.version());
            }
        } catch (AttestationException e) {
            throw e;
        } catch (Exception e) {
            throw new AttestationException("installing the remediation " + r.features() + " failed: " + e.getMessage(), e);
        }
    }

    private static boolean hasRepository(FeaturesService fs, String uri) throws Exception {
        for (Repository repo : fs.listRepositories()) {
            if (repo.getURI() != null && repo.getURI().toString().equals(uri)) {
                return true;
            }
        }
        return false;
    }

    static String describe(Verdict v) {
        StringBuilder b = new StringBuilder("verdict ").append(v.level()).append(v.genuine() ? "" : " (not genuine)");
        List<String> findings = v.reasons().stream().filter(r -> r.code() != Reason.Code.SUPERSEDED)
                .map(Reason::toString).toList();
        if (!findings.isEmpty()) {
            b.append(": ").append(String.join("; ", findings));
        }
        return b.toString();
    }

    @Override
    public Optional<AttestationResult> latest() {
        return itCenter.latest().map(AttestationRecord::result);
    }

    @Override
    public Verdict verifyPeer(AgentAddress peer, Duration timeout) {
        AgentChannels c = channels.get();
        PeerAttestation p = peers.get();
        if (c == null) {
            throw new AttestationException("no agent channels (feature ferry-channel): cannot reach agent " + peer);
        }
        if (p == null) {
            throw new AttestationException("no peer attestation service");
        }
        try (Channel channel = c.open(peer, ChannelPeerAttestation.PURPOSE, timeout)) {
            return p.attestPeer(channel, timeout);
        } catch (java.io.IOException e) {
            throw new AttestationException("closing the channel to " + peer + ": " + e.getMessage(), e);
        } catch (io.ferry.api.channel.ChannelException e) {
            throw new AttestationException("cannot open a channel to " + peer + ": " + e.getMessage(), e);
        }
    }
}
