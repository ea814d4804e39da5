import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Load for bench/run itcenter (JDK only, run as a source file): requests per second of one REST
 * call of the IT center over mutual TLS 1.3, with keep-alive connections, from N threads for a
 * fixed time after a warm-up. Every answer must have the expected status, or the run fails.
 *
 * Usage: java Load.java <base-url> <key.pem (PKCS#8)> <chain.pem> <root.pem> <agent|audit> <threads> <warmup-s> <seconds>
 */
public class Load {

    public static void main(String[] a) throws Exception {
        String base = a[0];
        String op = a[4];
        int threads = Integer.parseInt(a[5]);
        long warmup = Long.parseLong(a[6]) * 1000;
        long measure = Long.parseLong(a[7]) * 1000;
        HttpClient client = client(Path.of(a[1]), Path.of(a[2]), Path.of(a[3]));
        String agentId = CertificateFactory.getInstance("X.509").generateCertificates(
                new ByteArrayInputStream(Files.readAllBytes(Path.of(a[2])))).stream().findFirst()
                .map(c -> ((java.security.cert.X509Certificate) c).getSubjectX500Principal().getName())
                .orElseThrow().replaceFirst(".*CN=([^,]+).*", "$1");
        HttpRequest request = op.equals("agent")
                ? HttpRequest.newBuilder(URI.create(base + "/api/v1/agents/" + agentId)).GET().build()
                : HttpRequest.newBuilder(URI.create(base + "/api/v1/audit")).header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"kind\":\"bench.write\",\"vm\":\"bench\",\"detail\":\"x\"}"))
                        .build();
        int expected = op.equals("agent") ? 200 : 201;
        // wait until the IT center answers (it restarts after a configuration change)
        long ready = System.currentTimeMillis() + 120_000;
        while (true) {
            try {
                HttpResponse<String> r = client.send(request, HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == expected) {
                    break;
                }
                if (System.currentTimeMillis() > ready) {
                    throw new IllegalStateException("answer " + r.statusCode() + ": " + r.body());
                }
            } catch (java.io.IOException e) {
                if (System.currentTimeMillis() > ready) {
                    throw e;
                }
            }
            Thread.sleep(500);
        }
        long start = System.currentTimeMillis();
        long from = start + warmup;
        long end = from + measure;
        AtomicLong counted = new AtomicLong();
        AtomicLong failures = new AtomicLong();
        List<Thread> workers = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            Thread t = new Thread(() -> {
                while (true) {
                    long now = System.currentTimeMillis();
                    if (now >= end) {
                        return;
                    }
                    try {
                        HttpResponse<Void> r = client.send(request, HttpResponse.BodyHandlers.discarding());
                        long done = System.currentTimeMillis();
                        if (r.statusCode() != expected) {
                            failures.incrementAndGet();
                        } else if (now >= from && done <= end) {
                            counted.incrementAndGet();
                        }
                    } catch (Exception e) {
                        failures.incrementAndGet();
                    }
                }
            });
            t.start();
            workers.add(t);
        }
        for (Thread t : workers) {
            t.join();
        }
        if (failures.get() > 0) {
            System.err.println(failures.get() + " requests failed");
            System.exit(1);
        }
        System.out.printf("%.1f%n", counted.get() * 1000.0 / measure);
    }

    private static HttpClient client(Path keyPem, Path chainPem, Path rootPem) throws Exception {
        String key = Files.readString(keyPem).replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        PrivateKey pk = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(key)));
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        Certificate[] chain = cf.generateCertificates(new ByteArrayInputStream(Files.readAllBytes(chainPem)))
                .toArray(new Certificate[0]);
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("agent", pk, "k".toCharArray(), chain);
        KeyManagerFactory kmf = KeyManagerFactory.getInstance("PKIX");
        kmf.init(ks, "k".toCharArray());
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("root", cf.generateCertificate(new ByteArrayInputStream(Files.readAllBytes(rootPem))));
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(trust);
        SSLContext ssl = SSLContext.getInstance("TLSv1.3");
        ssl.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return HttpClient.newBuilder().sslContext(ssl).version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).build();
    }
}
