package io.ferry.enrolment.internal;

import static io.ferry.enrolment.internal.ItCenterReasons.reasonOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.ServerSocket;
import java.net.URI;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.ferry.api.itcenter.AccessDeniedException;
import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.itcenter.ItCenterException.Reason;
import io.ferry.enrolment.internal.TestServer.Canned;
import io.ferry.seal.testing.MemorySealStorage;

class ItCenterLinkServiceTest {

    private static final Duration T = Duration.ofSeconds(20);

    private TestCa ca;
    private TestServer server;
    private MemorySealStorage seal;
    private ItCenterLinkService link;
    private KeyPair keys;

    @BeforeEach
    void setUp() throws Exception {
        ca = new TestCa("Test IT center root");
        server = new TestServer(ca, 0);
        seal = new MemorySealStorage();
        link = new ItCenterLinkService(Configs.link("", 3, 100), new IdentityStore(seal), null, Clock.systemUTC());
        keys = Pki.newTlsKeyPair();
    }

    @AfterEach
    void tearDown() {
        server.close();
        link.deactivate();
    }

    private Identity identity(URI uri) throws Exception {
        return new Identity(uri, "agent-1", keys.getPrivate(), new X509Certificate[] { ca.agent("agent-1", keys) },
                ca.root);
    }

    @Test
    void notEnrolledCallsAreUnavailable() {
        assertThat(link.enrolled()).isFalse();
        assertThatThrownBy(() -> link.call("GET", "agents", null, T)).isInstanceOf(ItCenterException.class)
                .hasMessageContaining("not enrolled")
                .extracting(e -> ((ItCenterException) e).reason()).isEqualTo(Reason.UNAVAILABLE);
    }

    @Test
    void callsWithTheAgentCertificateAndReturnsTheBody() throws Exception {
        server.answers.put("GET /api/v1/agents/agent-1", Canned.json(200, "{\"id\":\"agent-1\"}"));
        server.answers.put("POST /api/v1/audit", Canned.json(201, "{\"seq\":7}"));
        link.install(identity(server.uri()));
        assertThat(link.enrolled()).isTrue();
        assertThat(link.uri()).isEqualTo(server.uri());
        assertThat(link.call("GET", "agents/agent-1", null, T)).isEqualTo("{\"id\":\"agent-1\"}");
        assertThat(link.call("POST", "audit", "{\"kind\":\"x\"}", T)).isEqualTo("{\"seq\":7}");
        assertThat(server.seen).extracting(TestServer.Seen::clientCn).containsOnly("agent-1");
        assertThat(server.seen.get(1).body()).isEqualTo("{\"kind\":\"x\"}");
        // stored in seal storage, and loaded again by a new link
        assertThat(seal.list()).contains(IdentityStore.KEY, IdentityStore.CERTIFICATES, IdentityStore.ITCENTER);
        ItCenterLinkService again = new ItCenterLinkService(Configs.link("", 0, 0), new IdentityStore(seal), null,
                Clock.systemUTC());
        again.check();
        assertThat(again.call("GET", "agents/agent-1", null, T)).contains("agent-1");
        again.deactivate();
    }

    @Test
    void mapsProblemAnswersToTheDocumentedExceptions() throws Exception {
        link.install(identity(server.uri()));
        problem("bad", 400, "invalid request", "kind: 1 to 64 characters");
        problem("big", 413, "Request Entity Too Large", "the body is larger than 65536 bytes");
        problem("missing", 404, "not found", "no agent x");
        problem("dup", 409, "conflict", "an agent named 'a' exists already");
        problem("down", 503, "unavailable", "database error");
        problem("oops", 500, "internal error", "NullPointerException");
        assertThatThrownBy(() -> link.call("GET", "bad", null, T)).isInstanceOf(ItCenterException.class)
                .hasMessage("kind: 1 to 64 characters").extracting(e -> ((ItCenterException) e).reason())
                .isEqualTo(Reason.INVALID);
        assertThat(reason("big")).isEqualTo(Reason.INVALID);
        assertThat(reason("missing")).isEqualTo(Reason.NOT_FOUND);
        assertThat(reason("dup")).isEqualTo(Reason.CONFLICT);
        assertThat(reason("down")).isEqualTo(Reason.UNAVAILABLE);
        assertThat(reason("oops")).isEqualTo(Reason.UNAVAILABLE);

        problem("nocert", 401, "access refused: no certificate", "no client certificate was presented");
        problem("revoked", 403, "access refused: revoked", "certificate 1f of agent a is revoked");
        problem("foreign", 403, "access refused: foreign", "certificate 2 was not issued to an agent");
        problem("expired", 403, "access refused: expired", "expired");
        assertThat(denied("nocert")).isEqualTo(AccessDeniedException.Reason.NO_CERTIFICATE);
        assertThat(denied("revoked")).isEqualTo(AccessDeniedException.Reason.REVOKED);
        assertThat(denied("foreign")).isEqualTo(AccessDeniedException.Reason.FOREIGN);
        assertThat(denied("expired")).isEqualTo(AccessDeniedException.Reason.EXPIRED);
        assertThatThrownBy(() -> link.call("GET", "revoked", null, T)).hasMessage("certificate 1f of agent a is revoked");

        // not a problem document: the status and the start of the body
        server.answers.put("GET /api/v1/html", new Canned(502, "text/html", "<h1>Bad gateway</h1>".getBytes()));
        assertThatThrownBy(() -> link.call("GET", "html", null, T)).isInstanceOf(ItCenterException.class)
                .hasMessageContaining("HTTP 502").hasMessageContaining("Bad gateway");
        // a 404 that is no problem document is a server whose API is not there (an IT center still booting)
        server.answers.put("GET /api/v1/booting", new Canned(404, "text/html", "<h1>Not Found</h1>".getBytes()));
        assertThat(reason("booting")).isEqualTo(Reason.UNAVAILABLE);
        server.answers.put("GET /api/v1/garbled", new Canned(400, "application/problem+json", "{not json".getBytes()));
        assertThatThrownBy(() -> link.call("GET", "garbled", null, T)).isInstanceOf(ItCenterException.class)
                .hasMessageContaining("HTTP 400");
    }

    @Test
    void refusesBadArgumentsWithoutSending() throws Exception {
        link.install(identity(server.uri()));
        assertThat(reasonOf(() -> link.call("PATCH", "agents", null, T))).isEqualTo(Reason.INVALID);
        assertThat(reasonOf(() -> link.call("GET", "../admin", null, T))).isEqualTo(Reason.INVALID);
        assertThat(reasonOf(() -> link.call("GET", "/api/v1/agents", null, T))).isEqualTo(Reason.INVALID);
        assertThat(reasonOf(() -> link.call("GET", "agents", null, Duration.ZERO))).isEqualTo(Reason.INVALID);
        assertThat(server.seen).isEmpty();
    }

    @Test
    void refusesAnItCenterWhoseCertificateIsNotFromTheRoot() throws Exception {
        TestCa other = new TestCa("Impostor root");
        try (TestServer impostor = new TestServer(other, 0)) {
            impostor.answers.put("GET /api/v1/agents", Canned.json(200, "[]"));
            link.install(identity(impostor.uri()));
            assertThatThrownBy(() -> link.call("GET", "agents", null, T)).isInstanceOf(ItCenterException.class)
                    .hasMessageContaining("unreachable")
                    .extracting(e -> ((ItCenterException) e).reason()).isEqualTo(Reason.UNAVAILABLE);
            assertThat(impostor.seen).isEmpty();
        }
    }

    @Test
    void retriesGetsUntilTheItCenterListensButNotPosts() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        link = new ItCenterLinkService(Configs.link("", 10, 200), new IdentityStore(seal), null, Clock.systemUTC());
        link.install(identity(URI.create("https://localhost:" + port + "/")));
        long t0 = System.nanoTime();
        assertThat(reasonOf(() -> link.call("POST", "audit", "{}", T))).isEqualTo(Reason.UNAVAILABLE);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofMillis(500));

        TestServer[] late = new TestServer[1];
        Thread starter = new Thread(() -> {
            try {
                Thread.sleep(600);
                late[0] = new TestServer(ca, port);
                late[0].answers.put("GET /api/v1/agents", Canned.json(200, "[]"));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        starter.start();
        try {
            assertThat(link.call("GET", "agents", null, T)).isEqualTo("[]");
        } finally {
            starter.join();
            late[0].close();
        }
    }

    @Test
    void retriesStopAtTheDeadline() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        link = new ItCenterLinkService(Configs.link("", 1000, 100), new IdentityStore(seal), null, Clock.systemUTC());
        link.install(identity(URI.create("https://localhost:" + port + "/")));
        long t0 = System.nanoTime();
        assertThat(reasonOf(() -> link.call("GET", "agents", null, Duration.ofMillis(800)))).isEqualTo(Reason.UNAVAILABLE);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isBetween(Duration.ofMillis(500), Duration.ofMillis(2000));
    }

    @Test
    void renewsForTheSameKeyAndRefusesACertificateForAnotherKey() throws Exception {
        Identity id = identity(server.uri());
        link.install(id);
        X509Certificate renewed = ca.agent("agent-1", keys);
        server.answers.put("POST /api/v1/certificates/renew", Canned.json(200,
                "{\"agentId\":\"agent-1\",\"pem\":" + json(Pki.pem(renewed, ca.root)) + "}"));
        Identity after = link.renew();
        assertThat(after.certificate()).isEqualTo(renewed);
        assertThat(server.seen.get(0).body()).contains("CERTIFICATE REQUEST");
        assertThat(new IdentityStore(seal).load().orElseThrow().certificate()).isEqualTo(renewed);

        X509Certificate foreignKey = ca.agent("agent-1", Pki.newTlsKeyPair());
        server.answers.put("POST /api/v1/certificates/renew", Canned.json(200,
                "{\"pem\":" + json(Pki.pem(foreignKey, ca.root)) + "}"));
        assertThatThrownBy(link::renew).isInstanceOf(ItCenterException.class).hasMessageContaining("not for this agent's key");
        assertThat(link.identity().orElseThrow().certificate()).isEqualTo(renewed);
    }

    @Test
    void renewalIsDueAfterTheFractionOfTheLifetime() throws Exception {
        Instant from = Instant.parse("2030-01-01T00:00:00Z");
        Identity id = new Identity(server.uri(), "a", keys.getPrivate(),
                new X509Certificate[] { ca.issue("a", keys, from, from.plus(Duration.ofHours(24))) }, ca.root);
        assertThat(ItCenterLinkService.renewalDue(id, from.plus(Duration.ofHours(15)), 0.66)).isFalse();
        assertThat(ItCenterLinkService.renewalDue(id, from.plus(Duration.ofHours(16)), 0.66)).isTrue();
    }

    private static String json(String s) {
        return "\"" + s.replace("\n", "\\n") + "\"";
    }

    private void problem(String path, int status, String title, String detail) {
        server.answers.put("GET /api/v1/" + path, Canned.json(status, "{\"type\":\"about:blank\",\"title\":\"" + title
                + "\",\"status\":" + status + ",\"detail\":\"" + detail + "\"}"));
    }

    private Reason reason(String path) {
        return reasonOf(() -> link.call("GET", path, null, T));
    }

    private AccessDeniedException.Reason denied(String path) {
        try {
            link.call("GET", path, null, T);
        } catch (AccessDeniedException e) {
            return e.reason();
        }
        throw new AssertionError("no AccessDeniedException for " + path);
    }
}
