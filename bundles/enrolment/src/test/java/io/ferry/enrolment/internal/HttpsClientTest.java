package io.ferry.enrolment.internal;

import static io.ferry.enrolment.internal.ItCenterReasons.reasonOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import javax.net.ssl.SSLContext;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;

import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.itcenter.ItCenterException.Reason;

/**
 * HttpsClient's retries against a local HTTPS server whose answers per request are scripted: an IT center
 * that is restarting (503, or a bare 404 while its REST API is not registered) and then answers.
 */
class HttpsClientTest {

    private static final Duration T = Duration.ofSeconds(20);
    private static final Duration DELAY = Duration.ofMillis(100);

    /** A scripted answer; the last one of a path repeats. */
    record Scripted(int status, String contentType, String body) {
        static Scripted ok(String json) {
            return new Scripted(200, "application/json", json);
        }

        static Scripted unavailable() {
            return new Scripted(503, "application/problem+json",
                    "{\"title\":\"unavailable\",\"status\":503,\"detail\":\"the IT center is starting or stopping\"}");
        }

        static Scripted bare404() {
            return new Scripted(404, "text/html", "<h1>No service was found.</h1>");
        }
    }

    /** One request as the server saw it: when (System.nanoTime) and its body. */
    record Seen(String key, long at, String body) {
    }

    private final Map<String, Deque<Scripted>> script = new ConcurrentHashMap<>();
    private final List<Seen> seen = new CopyOnWriteArrayList<>();
    private TestCa ca;
    private HttpsServer server;

    @BeforeEach
    void start() throws Exception {
        ca = new TestCa("Test IT center root");
        SSLContext ctx = SSLContext.getInstance("TLSv1.3");
        ctx.init(ca.serverKeyManagers(), null, null);
        server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(ctx));
        server.createContext("/", ex -> {
            String key = ex.getRequestMethod() + " " + ex.getRequestURI().getPath().substring("/api/v1/".length());
            seen.add(new Seen(key, System.nanoTime(),
                    new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8)));
            Deque<Scripted> answers = script.get(key);
            Scripted a;
            synchronized (this) {
                a = answers == null ? new Scripted(500, "text/plain", "no script for " + key)
                        : answers.size() > 1 ? answers.poll() : answers.peek();
            }
            byte[] body = a.body().getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", a.contentType());
            ex.sendResponseHeaders(a.status(), body.length == 0 ? -1 : body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            } catch (IOException e) {
                // client gone
            }
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private void script(String key, Scripted... answers) {
        script.put(key, new ArrayDeque<>(List.of(answers)));
    }

    private HttpsClient client(int retries) {
        return client(retries, DELAY);
    }

    private HttpsClient client(int retries, Duration delay) {
        return new HttpsClient(URI.create("https://localhost:" + server.getAddress().getPort() + "/"),
                Tls.anonymous(ca.root), Duration.ofSeconds(5), retries, delay);
    }

    private List<Seen> seen(String key) {
        return seen.stream().filter(s -> s.key().equals(key)).toList();
    }

    @Test
    void aGetIsRetriedOn503WithGrowingPausesUntilTheItCenterAnswers() {
        script("GET agents", Scripted.unavailable(), Scripted.unavailable(), Scripted.unavailable(), Scripted.ok("[1]"));
        assertThat(client(5).call("GET", "agents", null, T)).isEqualTo("[1]");
        List<Seen> s = seen("GET agents");
        assertThat(s).hasSize(4);
        // backoff from 100 ms, doubling, jitter ±25 %: 75–125, 150–250, 300–500 ms
        long[] gaps = { s.get(1).at() - s.get(0).at(), s.get(2).at() - s.get(1).at(), s.get(3).at() - s.get(2).at() };
        assertThat(Duration.ofNanos(gaps[0])).isBetween(Duration.ofMillis(70), Duration.ofMillis(400));
        assertThat(Duration.ofNanos(gaps[1])).isGreaterThanOrEqualTo(Duration.ofMillis(145));
        assertThat(Duration.ofNanos(gaps[2])).isGreaterThanOrEqualTo(Duration.ofMillis(295));
    }

    @Test
    void aBare404IsRetriedButTheApisOwnNotFoundIsAnAnswer() {
        script("GET leases/vm-1", Scripted.bare404(), Scripted.bare404(), Scripted.ok("{\"holder\":\"a\"}"));
        assertThat(client(5).call("GET", "leases/vm-1", null, T)).isEqualTo("{\"holder\":\"a\"}");
        assertThat(seen("GET leases/vm-1")).hasSize(3);

        script("GET leases/vm-2", new Scripted(404, "application/problem+json",
                "{\"title\":\"not found\",\"status\":404,\"detail\":\"no lease of vm-2\"}"), Scripted.ok("{}"));
        assertThatThrownBy(() -> client(5).call("GET", "leases/vm-2", null, T)).isInstanceOf(ItCenterException.class)
                .hasMessage("no lease of vm-2")
                .extracting(e -> ((ItCenterException) e).reason()).isEqualTo(Reason.NOT_FOUND);
        assertThat(seen("GET leases/vm-2")).hasSize(1);
    }

    @Test
    void otherFailuresAreNotRetried() {
        script("GET oops", new Scripted(500, "application/problem+json",
                "{\"title\":\"internal error\",\"status\":500,\"detail\":\"NullPointerException\"}"), Scripted.ok("{}"));
        script("GET bad", new Scripted(400, "application/problem+json",
                "{\"title\":\"invalid\",\"status\":400,\"detail\":\"kind\"}"), Scripted.ok("{}"));
        script("GET conflict", new Scripted(409, "application/problem+json",
                "{\"title\":\"conflict\",\"status\":409,\"detail\":\"x\"}"), Scripted.ok("{}"));
        assertThat(reasonOf(() -> client(5).call("GET", "oops", null, T))).isEqualTo(Reason.UNAVAILABLE);
        assertThat(reasonOf(() -> client(5).call("GET", "bad", null, T))).isEqualTo(Reason.INVALID);
        assertThat(reasonOf(() -> client(5).call("GET", "conflict", null, T))).isEqualTo(Reason.CONFLICT);
        assertThat(seen).hasSize(3);
    }

    @Test
    void postsThatAreNotIdempotentAreSentOnce() {
        List<String> once = List.of("audit", "certificates/renew", "approvals", "leases/vm-1/transfer",
                "attestation/nonces", "attestation/verdicts", "updates/7/result", "enrolment/challenge",
                "enrolment/complete");
        for (String path : once) {
            script("POST " + path, Scripted.unavailable(), Scripted.ok("{}"));
            assertThat(reasonOf(() -> client(5).call("POST", path, "{\"n\":1}", T))).as(path)
                    .isEqualTo(Reason.UNAVAILABLE);
            assertThat(seen("POST " + path)).as(path).hasSize(1);
        }
        script("DELETE leases/vm-1", Scripted.bare404(), Scripted.ok("{}"));
        assertThat(reasonOf(() -> client(5).call("DELETE", "leases/vm-1?epoch=3", null, T)))
                .isEqualTo(Reason.UNAVAILABLE);
        assertThat(seen("DELETE leases/vm-1")).hasSize(1);
        // a path that only looks like an idempotent one
        script("POST leases/vm-1/renew/x", Scripted.unavailable(), Scripted.ok("{}"));
        assertThat(reasonOf(() -> client(5).call("POST", "leases/vm-1/renew/x", "{}", T))).isEqualTo(Reason.UNAVAILABLE);
        assertThat(seen("POST leases/vm-1/renew/x")).hasSize(1);
    }

    @Test
    void leaseAcquireAndRenewAreIdempotentAndRetriedWithTheSameBody() {
        script("POST leases/vm-1/renew", Scripted.unavailable(), Scripted.bare404(),
                Scripted.ok("{\"holder\":\"a\",\"epoch\":3}"));
        String body = "{\"epoch\":3,\"ttlSeconds\":6}";
        assertThat(client(5).call("POST", "leases/vm-1/renew", body, T)).contains("\"epoch\":3");
        assertThat(seen("POST leases/vm-1/renew")).hasSize(3).extracting(Seen::body).containsOnly(body);

        script("POST leases/vm-1/acquire", Scripted.unavailable(), Scripted.ok("{\"holder\":\"a\",\"epoch\":1}"));
        assertThat(client(5).call("POST", "leases/vm-1/acquire", "{\"ttlSeconds\":6}", T)).contains("\"epoch\":1");
        assertThat(seen("POST leases/vm-1/acquire")).hasSize(2);
    }

    @Test
    void retriesStopAtTheConfiguredCount() {
        script("GET agents", Scripted.unavailable());
        assertThatThrownBy(() -> client(2).call("GET", "agents", null, T)).isInstanceOf(ItCenterException.class)
                .hasMessage("the IT center is starting or stopping")
                .extracting(e -> ((ItCenterException) e).reason()).isEqualTo(Reason.UNAVAILABLE);
        assertThat(seen("GET agents")).hasSize(3);
        seen.clear();
        assertThat(reasonOf(() -> client(0).call("GET", "agents", null, T))).isEqualTo(Reason.UNAVAILABLE);
        assertThat(seen("GET agents")).hasSize(1);
    }

    @Test
    void retriesStopWithinTheCallersDeadline() {
        script("GET agents", Scripted.unavailable());
        Duration deadline = Duration.ofMillis(1500);
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> client(1000).call("GET", "agents", null, deadline))
                .isInstanceOf(ItCenterException.class).hasMessage("the IT center is starting or stopping")
                .extracting(e -> ((ItCenterException) e).reason()).isEqualTo(Reason.UNAVAILABLE);
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        List<Seen> s = seen("GET agents");
        // 100, 200, 400, 800 ms pauses (±25 %), the last shortened to fit: 4 or 5 attempts, the last one
        // started at least one first pause before the deadline, the answer given before it
        assertThat(s.size()).isBetween(4, 6);
        assertThat(Duration.ofNanos(s.get(s.size() - 1).at() - t0)).isLessThanOrEqualTo(deadline.minus(DELAY.dividedBy(2)));
        assertThat(took).isLessThan(deadline).isGreaterThan(Duration.ofMillis(700));

        // a deadline too short for a pause and a second attempt: one
        seen.clear();
        assertThat(reasonOf(() -> client(1000, Duration.ofMillis(600)).call("GET", "agents", null,
                Duration.ofMillis(1100))))
                .isEqualTo(Reason.UNAVAILABLE);
        assertThat(seen("GET agents")).hasSize(1);
    }
}
