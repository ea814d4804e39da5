package io.ferry.enrolment.internal;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.KeyPair;
import java.security.cert.CertificateException;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

class RevocationTrustManagerTest {

    @Test
    void acceptsIssuedAndRefusesRevokedForeignAndUncheckable() throws Exception {
        TestCa ca = new TestCa("root");
        KeyPair k = Pki.newTlsKeyPair();
        X509Certificate good = ca.agent("good", k);
        X509Certificate bad = ca.agent("bad", k);
        Instant now = Instant.now();
        AtomicReference<X509CRL> served = new AtomicReference<>(ca.crl(List.of(bad), now, now.plusSeconds(600)));
        AtomicInteger fetches = new AtomicInteger();
        AtomicReference<Instant> clockNow = new AtomicReference<>(now);
        Clock clock = new Clock() {
            @Override
            public Instant instant() {
                return clockNow.get();
            }

            @Override
            public java.time.ZoneId getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(java.time.ZoneId zone) {
                return this;
            }
        };
        RevocationTrustManager tm = new RevocationTrustManager(ca.root, () -> {
            fetches.incrementAndGet();
            try {
                return served.get().getEncoded();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, clock);

        assertThatCode(() -> tm.checkClientTrusted(new X509Certificate[] { good, ca.root }, "ECDHE_ECDSA"))
                .doesNotThrowAnyException();
        assertThatCode(() -> tm.checkServerTrusted(new X509Certificate[] { good }, "ECDHE_ECDSA"))
                .doesNotThrowAnyException();
        assertThatThrownBy(() -> tm.checkClientTrusted(new X509Certificate[] { bad, ca.root }, "ECDHE_ECDSA"))
                .isInstanceOf(CertificateException.class).hasMessageContaining("revoked");
        // the socket and engine variants (as JSSE providers call them) check the same way
        assertThatThrownBy(() -> tm.checkClientTrusted(new X509Certificate[] { bad }, "ECDHE_ECDSA", (java.net.Socket) null))
                .hasMessageContaining("revoked");
        assertThatThrownBy(() -> tm.checkServerTrusted(new X509Certificate[] { bad }, "ECDHE_ECDSA",
                (javax.net.ssl.SSLEngine) null)).hasMessageContaining("revoked");
        assertThatCode(() -> tm.checkServerTrusted(new X509Certificate[] { good }, "ECDHE_ECDSA",
                (javax.net.ssl.SSLEngine) null)).doesNotThrowAnyException();
        TestCa other = new TestCa("root");
        X509Certificate foreign = other.agent("good", k);
        assertThatThrownBy(() -> tm.checkClientTrusted(new X509Certificate[] { foreign }, "ECDHE_ECDSA"))
                .isInstanceOf(CertificateException.class);
        assertThatThrownBy(() -> tm.checkClientTrusted(new X509Certificate[] { ca.issue("old", k,
                now.minus(Duration.ofDays(2)), now.minus(Duration.ofDays(1))) }, "ECDHE_ECDSA"))
                .isInstanceOf(CertificateException.class);
        org.assertj.core.api.Assertions.assertThat(fetches).hasValue(1);

        // past nextUpdate: fetched again; the new CRL revokes good too
        served.set(ca.crl(List.of(bad, good), now.plusSeconds(700), now.plusSeconds(1300)));
        clockNow.set(now.plusSeconds(700));
        assertThatThrownBy(() -> tm.checkClientTrusted(new X509Certificate[] { good }, "ECDHE_ECDSA"))
                .hasMessageContaining("revoked");
        org.assertj.core.api.Assertions.assertThat(fetches).hasValue(2);

        // a CRL signed by another CA, or an out-of-date one, is not used: closed
        clockNow.set(now.plusSeconds(1400));
        served.set(other.crl(List.of(), now.plusSeconds(1400), now.plusSeconds(2000)));
        assertThatThrownBy(() -> tm.checkClientTrusted(new X509Certificate[] { good }, "ECDHE_ECDSA"))
                .hasMessageContaining("cannot check revocation");
        served.set(ca.crl(List.of(), now, now.plusSeconds(1000)));
        assertThatThrownBy(() -> tm.checkClientTrusted(new X509Certificate[] { good }, "ECDHE_ECDSA"))
                .hasMessageContaining("not current");
    }

    @Test
    void unreachableItCenterFailsClosed() throws Exception {
        TestCa ca = new TestCa("root");
        X509Certificate good = ca.agent("good", Pki.newTlsKeyPair());
        RevocationTrustManager tm = new RevocationTrustManager(ca.root, () -> {
            throw new io.ferry.api.itcenter.ItCenterException(
                    io.ferry.api.itcenter.ItCenterException.Reason.UNAVAILABLE, "unreachable");
        }, Clock.systemUTC());
        assertThatThrownBy(() -> tm.checkClientTrusted(new X509Certificate[] { good }, "ECDHE_ECDSA"))
                .isInstanceOf(CertificateException.class).hasMessageContaining("unreachable");
    }
}
