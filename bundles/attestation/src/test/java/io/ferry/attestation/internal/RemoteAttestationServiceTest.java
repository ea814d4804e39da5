package io.ferry.attestation.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.doAnswer;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import java.net.URI;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;

import org.apache.karaf.features.FeaturesService;
import org.apache.karaf.features.Repository;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.ferry.api.attestation.AttestationException;
import io.ferry.api.attestation.AttestationOutcome;
import io.ferry.api.attestation.Measurer;
import io.ferry.api.attestation.ReferenceValue;
import io.ferry.api.attestation.Remediation;
import io.ferry.api.itcenter.ItCenterLink;
import io.ferry.attestation.verifier.SoftwareAttester;

/** attestation:attest's loop against a mocked IT-center link and a mocked FeaturesService. */
class RemoteAttestationServiceTest {

    /** What feature:install -u --no-auto-refresh does: no unrelated bundle restarts. */
    private static final EnumSet<FeaturesService.Option> UPGRADE_WITHOUT_REFRESH =
            EnumSet.of(FeaturesService.Option.Upgrade, FeaturesService.Option.NoAutoRefreshBundles);

    static final String REPO = "mvn:io.ferry/ferry-features/0.2.0/xml/features";

    final FakeItCenter itc = new FakeItCenter();
    final SoftwareAttester tpm = new SoftwareAttester();
    final Measurer measurer = mock(Measurer.class);
    final FeaturesService features = mock(FeaturesService.class);
    final List<String> progress = new ArrayList<>();
    ItCenterLink link;
    RemoteAttestationService service;

    @BeforeEach
    void setUp() throws Exception {
        itc.enrol("me", tpm);
        itc.references.add(new ReferenceValue("qemu-system-x86_64", "7.2.15", SoftwareAttester.digestOf("qemu")));
        itc.references.add(new ReferenceValue("io.ferry.policy", "0.2.0", SoftwareAttester.digestOf("policy 0.2.0"),
                "ferry-policy/0.2.0", null));
        tpm.measure("qemu-system-x86_64", "7.2.15", "qemu");
        link = itc.link("me");
        when(measurer.measureAll()).thenReturn(List.of());
        when(features.listRepositories()).thenReturn(new Repository[0]);
        service = new RemoteAttestationService(tpm, measurer, () -> link, () -> features, () -> null, () -> null);
        itc.remediation = (v, level) -> new Remediation(
                v.unknown().stream().filter(u -> u.startsWith("io.ferry.policy"))
                        .map(u -> new Remediation.FeatureUpdate("io.ferry.policy", "ferry-policy", "0.2.0",
                                "ferry-policy/0.2.0")).toList(),
                v.unknown().stream().filter(u -> !u.startsWith("io.ferry.policy")).map(u -> u + ": unpublished").toList(),
                REPO);
    }

    @Test
    void aTrustedAgentQualifiesInOneRoundAndInstallsNothing() throws Exception {
        AttestationOutcome o = service.attest("trusted", 3, progress::add);
        assertThat(o.qualifies()).isTrue();
        assertThat(o.rounds()).isEqualTo(1);
        assertThat(o.gaveUp()).isNull();
        assertThat(o.last().verdict().level()).isEqualTo("trusted");
        assertThat(progress).anySatisfy(p -> assertThat(p).contains("Round 1: verdict trusted"));
        verify(features, never()).installFeature(any(String.class), any(String.class), any());
        assertThat(itc.calls).containsExactly("me POST attestation/nonces", "me POST attestation/verdicts");
    }

    @Test
    void belowTheLevelTheRemediationIsInstalledWithUpgradeWithoutRefreshAndTheAgentAttestsAgain() throws Exception {
        tpm.measure("io.ferry.policy", "0.1.5", "tampered policy");
        // what Karaf does: the feature upgrade updates the bundle, the measurer's bundle listener measures it
        doAnswer(inv -> tpm.measure("io.ferry.policy", "0.2.0", "policy 0.2.0")).when(features)
                .installFeature(eq("ferry-policy"), eq("0.2.0"), eq(UPGRADE_WITHOUT_REFRESH));

        AttestationOutcome o = service.attest("trusted", 3, progress::add);

        assertThat(o.qualifies()).isTrue();
        assertThat(o.rounds()).isEqualTo(2);
        assertThat(o.installed()).containsExactly("ferry-policy/0.2.0");
        verify(features).addRepository(URI.create(REPO));
        verify(features).installFeature("ferry-policy", "0.2.0", UPGRADE_WITHOUT_REFRESH);
        verify(measurer).measureAll();
        assertThat(progress).anySatisfy(p -> assertThat(p).contains("Round 1: verdict measured", "UNKNOWN_COMPONENT",
                "io.ferry.policy version 0.1.5"));
        assertThat(progress).anySatisfy(p -> assertThat(p).contains("Installing ferry-policy/0.2.0 (upgrade)"));
        assertThat(progress).anySatisfy(p -> assertThat(p).startsWith("Round 2: verdict trusted"));
        assertThat(itc.record).hasSize(2);
    }

    @Test
    void givesUpWhenInstallingChangesNothing() throws Exception {
        tpm.measure("io.ferry.policy", "0.1.5", "tampered policy");
        AttestationOutcome o = service.attest("trusted", 5, progress::add);
        assertThat(o.qualifies()).isFalse();
        assertThat(o.rounds()).isEqualTo(2);
        assertThat(o.gaveUp()).contains("installing", "ferry-policy/0.2.0", "did not change the verdict");
        verify(features).installFeature("ferry-policy", "0.2.0", UPGRADE_WITHOUT_REFRESH);
    }

    @Test
    void givesUpWhenNoFeatureFixesIt() throws Exception {
        tpm.measure("io.ferry.evil", "6.6.6", "rootkit");
        AttestationOutcome o = service.attest("trusted", 3, progress::add);
        assertThat(o.qualifies()).isFalse();
        assertThat(o.rounds()).isEqualTo(1);
        assertThat(o.gaveUp()).contains("nothing to install fixes it", "io.ferry.evil 6.6.6: unpublished");
        verify(features, never()).installFeature(any(String.class), any(String.class), any());
    }

    @Test
    void givesUpAfterTheLastRound() throws Exception {
        tpm.measure("io.ferry.policy", "0.1.5", "tampered policy");
        AttestationOutcome o = service.attest("trusted", 1, progress::add);
        assertThat(o.gaveUp()).contains("still measured after 1 rounds");
    }

    @Test
    void aForgedQuoteIsUntrustedAndNothingIsInstalled() throws Exception {
        tpm.signer = SoftwareAttester.newKey();
        AttestationOutcome o = service.attest("trusted", 3, progress::add);
        assertThat(o.last().verdict().level()).isEqualTo("untrusted");
        assertThat(o.gaveUp()).contains("nothing to install");
        verify(features, never()).installFeature(any(String.class), any(String.class), any());
    }

    @Test
    void aFailingInstallIsReported() throws Exception {
        tpm.measure("io.ferry.policy", "0.1.5", "tampered policy");
        doAnswer(inv -> {
            throw new IllegalStateException("Unable to resolve ferry-policy/0.2.0");
        }).when(features).installFeature(any(String.class), any(String.class), any());
        assertThatThrownBy(() -> service.attest("trusted", 3, progress::add)).isInstanceOf(AttestationException.class)
                .hasMessageContaining("installing the remediation").hasMessageContaining("Unable to resolve");
    }

    @Test
    void withoutALinkOrEnrolmentItSaysSo() {
        link = null;
        assertThatThrownBy(() -> service.attest(null, 1, progress::add)).isInstanceOf(AttestationException.class)
                .hasMessageContaining("no link to the IT center");
        ItCenterLink notEnrolled = mock(ItCenterLink.class);
        link = notEnrolled;
        assertThatThrownBy(() -> service.attest(null, 1, progress::add)).hasMessageContaining("has not enrolled");
    }

    @Test
    void latestIsTheItCentersRecord() {
        assertThat(service.latest()).isEmpty();
        service.attest(null, 1, progress::add);
        assertThat(service.latest()).hasValueSatisfying(r -> assertThat(r.verdict().level()).isEqualTo("trusted"));
    }
}
