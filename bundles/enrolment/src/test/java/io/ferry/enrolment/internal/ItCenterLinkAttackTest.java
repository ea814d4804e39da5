package io.ferry.enrolment.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;

import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.itcenter.ItCenterException.Reason;
import io.ferry.seal.testing.MemorySealStorage;

/**
 * A downgrade of the agent's link to the IT center: a server with the IT center's genuine
 * certificate that speaks only TLS 1.2 gets no request from the agent (the link offers TLS 1.3
 * alone), neither with the agent's certificate nor anonymously as in enrolment.
 */
class ItCenterLinkAttackTest {

    private static final Duration T = Duration.ofSeconds(10);

    private TestCa ca;
    private HttpsServer tls12;
    private final AtomicInteger requests = new AtomicInteger();
    private ItCenterLinkService link;
    private KeyPair keys;

    @BeforeEach
    void setUp() throws Exception {
        ca = new TestCa("Test IT center root");
        tls12 = serverSpeaking("TLSv1.2");
        link = new ItCenterLinkService(Configs.link("", 0, 0), new IdentityStore(new MemorySealStorage()), null,
                Clock.systemUTC());
        keys = Pki.newTlsKeyPair();
    }

    @AfterEach
    void tearDown() {
        tls12.stop(0);
        link.deactivate();
    }

    @Test
    void anItCenterThatOffersOnlyTls12GetsNoRequestFromTheAgent() throws Exception {
        URI uri = URI.create("https://localhost:" + tls12.getAddress().getPort() + "/");
        link.install(new Identity(uri, "agent-1", keys.getPrivate(),
                new X509Certificate[] { ca.agent("agent-1", keys) }, ca.root));
        assertThatThrownBy(() -> link.call("GET", "agents", null, T)).isInstanceOf(ItCenterException.class)
                .extracting(e -> ((ItCenterException) e).reason()).isEqualTo(Reason.UNAVAILABLE);
        assertThatThrownBy(() -> link.call("POST", "audit", "{\"kind\":\"x\"}", T))
                .isInstanceOf(ItCenterException.class);
        assertThat(requests).hasValue(0);
    }

    @Test
    void enrolmentsAnonymousClientRefusesTls12Too() throws Exception {
        URI uri = URI.create("https://localhost:" + tls12.getAddress().getPort() + "/");
        HttpsClient anonymous = link.anonymousClient(uri, Tls.anonymous(ca.root));
        assertThatThrownBy(() -> anonymous.call("GET", "api/v1/enrolment/challenge", null, T))
                .isInstanceOf(ItCenterException.class);
        assertThat(requests).hasValue(0);
    }

    @Test
    void theSameServerOverTls13IsReachedSoTheRefusalAboveIsTheVersion() throws Exception {
        HttpsServer tls13 = serverSpeaking("TLSv1.3");
        try {
            URI uri = URI.create("https://localhost:" + tls13.getAddress().getPort() + "/");
            link.install(new Identity(uri, "agent-1", keys.getPrivate(),
                    new X509Certificate[] { ca.agent("agent-1", keys) }, ca.root));
            assertThat(link.call("GET", "agents", null, T)).isEqualTo("[]");
            assertThat(requests).hasValue(1);
        } finally {
            tls13.stop(0);
        }
    }

    /** An HTTPS server with the IT center's genuine server certificate, limited to one protocol version. */
    private HttpsServer serverSpeaking(String protocol) throws Exception {
        SSLContext ctx = SSLContext.getInstance(protocol);
        ctx.init(ca.serverKeyManagers(), null, null);
        HttpsServer server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(ctx) {
            @Override
            public void configure(HttpsParameters params) {
                SSLParameters p = ctx.getDefaultSSLParameters();
                p.setProtocols(new String[] { protocol });
                p.setWantClientAuth(true);
                params.setSSLParameters(p);
            }
        });
        server.createContext("/", x -> {
            requests.incrementAndGet();
            byte[] body = "[]".getBytes(StandardCharsets.UTF_8);
            x.getResponseHeaders().add("Content-Type", "application/json");
            x.sendResponseHeaders(200, body.length);
            try (OutputStream out = x.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        return server;
    }
}
