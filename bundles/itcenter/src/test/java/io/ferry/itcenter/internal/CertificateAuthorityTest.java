package io.ferry.itcenter.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.ferry.api.itcenter.AccessDeniedException;
import io.ferry.api.itcenter.ItCenterException;

class CertificateAuthorityTest {

    private final MutableClock clock = new MutableClock(Instant.now());

    @TempDir
    Path dir;

    @Test
    void agentCertificatesValidateWithTheJdkPkixValidator() throws Exception {
        CertificateAuthority ca = CertificateAuthority.create("root", clock);
        X509Certificate cert = ca.issueAgent("agent-1", "home", Pki.keyPair().getPublic(), Duration.ofHours(1))
                .certificate();

        PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(ca.root(), null)));
        params.setRevocationEnabled(false);
        CertPathValidator.getInstance("PKIX")
                .validate(CertificateFactory.getInstance("X.509").generateCertPath(List.of(cert)), params);
        assertThat(cert.getExtendedKeyUsage()).contains("1.3.6.1.5.5.7.3.2", "1.3.6.1.5.5.7.3.1");
        assertThat(cert.getBasicConstraints()).isEqualTo(-1);
        assertThat(ca.root().getBasicConstraints()).isEqualTo(0);
        assertThat(cert.getNotAfter().toInstant()).isBefore(clock.instant().plus(Duration.ofHours(1)).plusSeconds(1));

        // the same path is refused once expired, and under another root
        params.setDate(Date.from(clock.instant().plus(Duration.ofHours(2))));
        assertThatThrownBy(() -> CertPathValidator.getInstance("PKIX")
                .validate(CertificateFactory.getInstance("X.509").generateCertPath(List.of(cert)), params))
                .isInstanceOf(CertPathValidatorException.class);
        CertificateAuthority other = CertificateAuthority.create("root", clock);
        assertThatThrownBy(() -> other.verify(cert)).isInstanceOf(AccessDeniedException.class)
                .extracting(t -> ((AccessDeniedException) t).reason()).isEqualTo(AccessDeniedException.Reason.FOREIGN);
        ca.verify(cert);
        ca.verify(cert); // remembered as validated: still checked for its dates (below)
        // an agent of the same name from another CA is not the one remembered
        X509Certificate foreign = other.issueAgent("agent-1", "home", Pki.keyPair().getPublic(), Duration.ofHours(1))
                .certificate();
        assertThatThrownBy(() -> ca.verify(foreign)).isInstanceOf(AccessDeniedException.class)
                .extracting(t -> ((AccessDeniedException) t).reason()).isEqualTo(AccessDeniedException.Reason.FOREIGN);
        clock.advance(Duration.ofHours(2));
        assertThatThrownBy(() -> ca.verify(cert)).isInstanceOf(AccessDeniedException.class)
                .extracting(t -> ((AccessDeniedException) t).reason()).isEqualTo(AccessDeniedException.Reason.EXPIRED);
    }

    @Test
    void serverCertificateNamesItsHosts() throws Exception {
        CertificateAuthority ca = CertificateAuthority.create("root", clock);
        X509Certificate cert = ca.issueServer(List.of("localhost", "127.0.0.1"), Pki.keyPair().getPublic(),
                Duration.ofDays(30)).certificate();
        assertThat(cert.getSubjectAlternativeNames()).extracting(l -> (Object) l.get(1)).containsExactly("localhost", "127.0.0.1");
    }

    @Test
    void rootKeyIsKeptInAPassphraseProtectedPkcs12File() throws Exception {
        Path p12 = dir.resolve("ca/root.p12");
        CertificateAuthority first = CertificateAuthority.openOrCreate(p12, "s3cret".toCharArray(), "root", clock);
        assertThat(Files.getPosixFilePermissions(p12)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        CertificateAuthority again = CertificateAuthority.openOrCreate(p12, "s3cret".toCharArray(), "root", clock);
        assertThat(again.root()).isEqualTo(first.root());
        X509Certificate cert = again.issueAgent("a", "g", Pki.keyPair().getPublic(), Duration.ofHours(1)).certificate();
        first.verify(cert);

        assertThatThrownBy(() -> CertificateAuthority.openOrCreate(p12, "wrong".toCharArray(), "root", clock))
                .isInstanceOf(ItCenterException.class).hasMessageContaining("passphrase");
    }

    @Test
    void refusesKeysItCannotUse() {
        assertThatThrownBy(() -> CertificateAuthority.publicKey("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"))
                .isInstanceOf(ItCenterException.class);
        assertThatThrownBy(() -> CertificateAuthority.publicKey("x".repeat(20_000))).isInstanceOf(ItCenterException.class);
        assertThatThrownBy(() -> CertificateAuthority.publicKey(null)).isInstanceOf(ItCenterException.class);
    }
}
