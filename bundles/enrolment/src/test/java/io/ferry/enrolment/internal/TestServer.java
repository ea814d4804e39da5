package io.ferry.enrolment.internal;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.TrustManagerFactory;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsExchange;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;

/** A local HTTPS server standing in for the IT center: canned answers by method and path, client certificates seen. */
final class TestServer implements AutoCloseable {

    record Canned(int status, String contentType, byte[] body) {
        static Canned json(int status, String json) {
            return new Canned(status, status >= 400 ? "application/problem+json" : "application/json",
                    json.getBytes(StandardCharsets.UTF_8));
        }
    }

    /** One request as the server saw it. */
    record Seen(String method, String path, String body, String clientCn) {
    }

    final Map<String, Canned> answers = new ConcurrentHashMap<>();
    final List<Seen> seen = new CopyOnWriteArrayList<>();
    private final HttpsServer server;

    TestServer(TestCa ca, int port) throws Exception {
        KeyStore ts = KeyStore.getInstance("PKCS12");
        ts.load(null, null);
        ts.setCertificateEntry("root", ca.root);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(ts);
        SSLContext ctx = SSLContext.getInstance("TLSv1.3");
        ctx.init(ca.serverKeyManagers(), tmf.getTrustManagers(), null);
        server = HttpsServer.create(new InetSocketAddress("127.0.0.1", port), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(ctx) {
            @Override
            public void configure(HttpsParameters params) {
                javax.net.ssl.SSLParameters p = ctx.getDefaultSSLParameters();
                p.setWantClientAuth(true);
                params.setSSLParameters(p);
            }
        });
        server.createContext("/", x -> {
            HttpsExchange ex = (HttpsExchange) x;
            String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            String cn = null;
            try {
                cn = Pki.commonName((X509Certificate) ex.getSSLSession().getPeerCertificates()[0]);
            } catch (SSLPeerUnverifiedException e) {
                // anonymous
            }
            String key = ex.getRequestMethod() + " " + ex.getRequestURI().getPath();
            seen.add(new Seen(ex.getRequestMethod(), ex.getRequestURI().toString(), body, cn));
            Canned c = answers.getOrDefault(key, Canned.json(404, "{\"title\":\"not found\",\"status\":404,"
                    + "\"detail\":\"no route " + key + "\"}"));
            ex.getResponseHeaders().add("Content-Type", c.contentType());
            ex.sendResponseHeaders(c.status(), c.body().length == 0 ? -1 : c.body().length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(c.body());
            } catch (IOException e) {
                // client gone
            }
        });
        server.start();
    }

    URI uri() {
        return URI.create("https://localhost:" + server.getAddress().getPort() + "/");
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
