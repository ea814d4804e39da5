package io.ferry.enrolment.internal;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.failsafe.Failsafe;
import dev.failsafe.FailsafeException;
import dev.failsafe.RetryPolicy;
import dev.failsafe.RetryPolicyBuilder;
import io.ferry.api.itcenter.AccessDeniedException;
import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.itcenter.ItCenterException.Reason;

/**
 * HTTPS to one IT center over one TLS context: requests below {@code /api/v1/}, answers mapped to
 * the exceptions of {@link io.ferry.api.itcenter.ItCenterLink}.
 *
 * <p>Idempotent requests ({@link #idempotent}: every GET, and the POSTs whose effect is the same however
 * often they arrive) are retried with exponential backoff (Failsafe, bounded by the configured number of
 * retries and by the caller's deadline) when the connection cannot be made, and when the IT center
 * answers that it is not there right now: 503, or a 404 that is no problem document (a web server whose
 * API is not registered yet, see {@link #checked}). Such an answer means no resource handled the request,
 * but an answer lost on the way back (a timeout, a reset after sending) may not: those are never retried,
 * and no other POST, PUT or DELETE is retried at all.
 */
final class HttpsClient {

    /** An answer: status and body. */
    record Answer(int status, String contentType, byte[] body) {
        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    static final Set<String> METHODS = Set.of("GET", "POST", "PUT", "DELETE");
    private static final int MAX_BODY = 1 << 20;
    private static final ObjectMapper JSON = new ObjectMapper();
    /**
     * POSTs that are idempotent by design (checked against the IT center's resources): a lease's
     * {@code acquire} by its holder and {@code renew} at the holder's epoch leave the same lease and
     * audit log however often they arrive (the second is a renewal at the same epoch, no audit event).
     * Not here, because a second one does something else or is refused: {@code audit} (appends),
     * {@code certificates/renew} and {@code approvals} (issue anew), {@code leases/.../transfer} (moves the
     * epoch), {@code attestation/*} (new nonce, new verdict), {@code updates/.../result} (409 the second
     * time), {@code enrolment/*} (spends a token); nor {@code DELETE leases/...} (refused once released).
     */
    private static final List<Pattern> IDEMPOTENT_POSTS = List.of(Pattern.compile("leases/[^/?#]+/(acquire|renew)"));
    /** Longest pause between two attempts, as a multiple of the first one. */
    private static final int MAX_BACKOFF_FACTOR = 8;

    private final URI base;
    private final HttpClient http;
    private final int retries;
    private final Duration retryDelay;

    HttpsClient(URI base, SSLContext tls, Duration connectTimeout, int retries, Duration retryDelay) {
        this.base = base.getPath().endsWith("/") ? base : URI.create(base + "/");
        this.http = HttpClient.newBuilder().sslContext(tls).sslParameters(Tls.parameters())
                .version(HttpClient.Version.HTTP_1_1).connectTimeout(connectTimeout)
                .followRedirects(HttpClient.Redirect.NEVER).build();
        this.retries = retries;
        this.retryDelay = retryDelay.isZero() || retryDelay.isNegative() ? Duration.ofMillis(1) : retryDelay;
    }

    URI base() {
        return base;
    }

    /** A call whose answer must be 2xx; its body as text. */
    String call(String method, String path, String json, Duration timeout) {
        return checked(send(method, path, json, timeout)).text();
    }

    /** A GET whose answer must be 2xx; its body as bytes (CRL, certificate). */
    byte[] getBytes(String path, Duration timeout) {
        return checked(send("GET", path, null, timeout)).body();
    }

    Answer send(String method, String path, String json, Duration timeout) {
        if (method == null || !METHODS.contains(method)) {
            throw new ItCenterException(Reason.INVALID, "method: GET, POST, PUT or DELETE, not " + method);
        }
        if (path == null || path.startsWith("/") || path.contains("..") || path.contains("#")
                || path.chars().anyMatch(ch -> ch <= ' ' || ch >= 127)) {
            throw new ItCenterException(Reason.INVALID, "path: below /api/v1/, no leading slash, no '..': " + path);
        }
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new ItCenterException(Reason.INVALID, "a positive timeout is required");
        }
        URI uri = base.resolve("api/v1/" + path);
        Instant deadline = Instant.now().plus(timeout);
        boolean again = idempotent(method, path);
        // the last attempt starts no later than one first pause before the deadline, so that it has time to
        // get an answer: Failsafe shortens the pause before it to fit (withMaxDuration)
        Duration window = timeout.minus(retryDelay);
        RetryPolicyBuilder<Answer> policy = RetryPolicy.<Answer>builder()
                .handleIf(e -> again && connectionFailure(e))
                .handleResultIf(a -> again && unavailableAnswer(a))
                // exponential, with jitter: agents that all found their IT center restarting do not come back in step
                .withBackoff(retryDelay, retryDelay.multipliedBy(MAX_BACKOFF_FACTOR)).withJitter(0.25);
        if (window.compareTo(retryDelay) > 0) {
            policy.withMaxDuration(window).withMaxRetries(retries);
        } else {
            policy.withMaxRetries(0); // no time for a second attempt
        }
        try {
            // retries used up on an answer: Failsafe returns that last answer, and checked() maps it
            return Failsafe.with(policy.build()).get(() -> once(method, uri, json, deadline));
        } catch (FailsafeException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            if (cause instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw unavailable(uri, cause);
        }
    }

    private Answer once(String method, URI uri, String json, Instant deadline) throws IOException, InterruptedException {
        Duration left = Duration.between(Instant.now(), deadline);
        if (left.isNegative() || left.isZero()) {
            throw new HttpTimeoutException("deadline passed");
        }
        HttpRequest.BodyPublisher body = json == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(json, StandardCharsets.UTF_8);
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(left).method(method, body)
                .header("Accept", "application/json, application/problem+json, */*");
        if (json != null) {
            b.header("Content-Type", "application/json");
        }
        HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        byte[] bytes = r.body() == null ? new byte[0] : r.body();
        if (bytes.length > MAX_BODY) {
            throw new IOException("the answer has more than " + MAX_BODY + " bytes");
        }
        return new Answer(r.statusCode(), r.headers().firstValue("Content-Type").orElse(""), bytes);
    }

    /** Whether a request may be sent again when the IT center did not handle it: GETs and {@link #IDEMPOTENT_POSTS}. */
    static boolean idempotent(String method, String path) {
        return "GET".equals(method)
                || ("POST".equals(method) && IDEMPOTENT_POSTS.stream().anyMatch(p -> p.matcher(path).matches()));
    }

    /** An answer that no resource of the IT center gave: 503, or a 404 that is no problem document. */
    static boolean unavailableAnswer(Answer a) {
        return a.status() == 503 || (a.status() == 404 && problem(a) == null);
    }

    /** Failures where no request reached the IT center: worth trying an idempotent request again. */
    static boolean connectionFailure(Throwable e) {
        return e instanceof ConnectException || e instanceof HttpConnectTimeoutException
                || (e instanceof IOException && e.getCause() instanceof ConnectException);
    }

    private static ItCenterException unavailable(URI uri, Throwable e) {
        String why;
        if (e instanceof SSLHandshakeException) {
            why = "TLS handshake failed (" + e.getMessage() + ")";
        } else if (e instanceof HttpTimeoutException) {
            why = "no answer within the deadline";
        } else if (connectionFailure(e)) {
            why = "cannot connect";
        } else {
            why = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
        }
        return new ItCenterException(Reason.UNAVAILABLE, "IT center " + uri + " unreachable: " + why, e);
    }

    /** The answer if it is 2xx, else the exception its status and problem document say. */
    static Answer checked(Answer a) {
        int s = a.status();
        if (s >= 200 && s < 300) {
            return a;
        }
        String[] doc = problem(a);
        String title = doc == null ? null : doc[0];
        String detail = doc == null ? null : doc[1];
        String message = detail != null ? detail : title != null ? title : "HTTP " + s + snippet(a.body());
        if (s == 401 || s == 403) {
            throw new AccessDeniedException(accessReason(s, title), message);
        }
        boolean problemDocument = title != null || detail != null;
        // Every "not found" of the IT center's API is a problem document. A bare 404 (Jetty's HTML page)
        // comes from a web server whose API is not there (yet): while the IT center boots, HTTPS is up
        // seconds before the REST resources register, and reading that as "no such lease" or "no such
        // agent" would make a backup fail a living primary over.
        Reason reason = s == 404 ? (problemDocument ? Reason.NOT_FOUND : Reason.UNAVAILABLE)
                : s == 409 ? Reason.CONFLICT : s >= 500 ? Reason.UNAVAILABLE : Reason.INVALID;
        throw new ItCenterException(reason, message);
    }

    /** A problem document's title and detail (either may be null), or null if the answer is none. */
    private static String[] problem(Answer a) {
        if (!a.contentType().toLowerCase(Locale.ROOT).contains("json") || a.body().length == 0) {
            return null;
        }
        try {
            JsonNode n = JSON.readTree(a.body());
            String title = n.path("title").isTextual() ? n.path("title").asText() : null;
            String detail = n.path("detail").isTextual() ? n.path("detail").asText() : null;
            return title == null && detail == null ? null : new String[] { title, detail };
        } catch (IOException | RuntimeException e) {
            return null; // not a problem document: the caller falls back to the status
        }
    }

    private static AccessDeniedException.Reason accessReason(int status, String title) {
        String t = title == null ? "" : title.toLowerCase(Locale.ROOT);
        if (t.contains("revoked")) {
            return AccessDeniedException.Reason.REVOKED;
        }
        if (t.contains("expired")) {
            return AccessDeniedException.Reason.EXPIRED;
        }
        if (t.contains("foreign")) {
            return AccessDeniedException.Reason.FOREIGN;
        }
        if (t.contains("no certificate")) {
            return AccessDeniedException.Reason.NO_CERTIFICATE;
        }
        return status == 401 ? AccessDeniedException.Reason.NO_CERTIFICATE : AccessDeniedException.Reason.FOREIGN;
    }

    private static String snippet(byte[] body) {
        if (body.length == 0) {
            return "";
        }
        String s = new String(body, 0, Math.min(body.length, 200), StandardCharsets.UTF_8)
                .replaceAll("\\p{Cntrl}", " ").strip();
        return s.isEmpty() ? "" : ": " + s;
    }
}
