package io.ferry.itcenter.attestation;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.ferry.api.attestation.AttestationResult;
import io.ferry.api.attestation.Remediation;
import io.ferry.attestation.verifier.SoftwareAttester;

/**
 * A downgrade to an older bundle release: every published release keeps its reference values, so an
 * agent that goes back to an older release (one with a known flaw) would still be appraised at the
 * highest level. Withdrawing the release ({@code withdrawn} of PID io.ferry.itcenter.attestation)
 * takes its reference values out of the appraisal: the agent drops below the highest level, the
 * remediation names the newest release still standing, and the newer release stays trusted.
 */
class ReleaseDowngradeAttackTest {

    @TempDir
    Path tmp;

    /** AttestationServiceTest's fixture: an IT center on H2, agents with software TPMs, releases 0.1.0 and 0.2.0. */
    private final AttestationServiceTest fixture = new AttestationServiceTest();

    @BeforeEach
    void setUp() throws Exception {
        fixture.dir = tmp;
        fixture.setUp();
    }

    @AfterEach
    void tearDown() {
        fixture.close();
    }

    private AttestationService withdrawing(String... withdrawn) {
        AttestationService.Settings s = AttestationServiceTest.SETTINGS;
        return new AttestationService(fixture.store, new AttestationService.Settings(s.policy(), s.pcr(), s.nonceTtl(),
                s.featureOverrides(), s.featuresRepository(), Set.of(withdrawn)), fixture.clock,
                () -> List.copyOf(fixture.releases));
    }

    private static AttestationResult attest(AttestationService service, String agent, SoftwareAttester tpm) {
        var g = service.issueNonce(agent, new io.ferry.attestation.wire.NonceRequest(null, null));
        return service.submit(agent, new io.ferry.attestation.wire.EvidenceSubmission(null, "trusted",
                tpm.attest(g.nonce(), g.binding())));
    }

    @Test
    void byDefaultEveryPublishedReleaseCountsSoTheOlderOneIsStillTrusted() {
        // the attack as it stands by default: the laptop runs io.ferry.policy 0.1.0 although 0.2.0 is out
        assertThat(attest(fixture.service, fixture.laptop, fixture.laptopTpm).verdict().level()).isEqualTo("trusted");
    }

    @Test
    void aWithdrawnReleaseNoLongerCountsAndTheRemediationNamesTheNewerOne() {
        for (String entry : new String[] { "ferry-policy/0.1.0", "io.ferry.policy@0.1.0" }) {
            AttestationResult r = attest(withdrawing(entry), fixture.laptop, fixture.laptopTpm);
            assertThat(r.verdict().genuine()).as(entry).isTrue();
            assertThat(r.verdict().level()).as(entry).isEqualTo("measured");
            assertThat(r.verdict().unknown()).as(entry).containsExactly("io.ferry.policy 0.1.0");
            assertThat(r.qualifies()).isFalse();
            assertThat(r.remediation().features()).extracting(Remediation.FeatureUpdate::feature,
                    Remediation.FeatureUpdate::version).containsExactly(org.assertj.core.groups.Tuple.tuple(
                            "ferry-policy", "0.2.0"));
        }
        // the desktop, updated to 0.2.0, stays trusted under the same withdrawal
        fixture.desktopTpm.measure("io.ferry.policy", "0.2.0", "policy 0.2.0");
        AttestationResult updated = attest(withdrawing("ferry-policy/0.1.0"), fixture.desktop, fixture.desktopTpm);
        assertThat(updated.verdict().level()).isEqualTo("trusted");
        assertThat(updated.qualifies()).isTrue();
    }
}
