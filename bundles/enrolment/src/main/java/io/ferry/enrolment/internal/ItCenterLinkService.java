package io.ferry.enrolment.internal;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

import javax.net.ssl.SSLContext;

import org.osgi.annotation.bundle.Capability;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.ferry.api.channel.AgentCredentials;
import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.itcenter.ItCenterException.Reason;
import io.ferry.api.itcenter.ItCenterLink;
import io.ferry.api.seal.SealStorage;

/**
 * The agent's link to its IT center, over the identity that enrolment stored in seal storage. While the
 * agent is enrolled it also registers {@link AgentCredentials} (the same key and certificate, and a
 * trust manager that accepts only unrevoked certificates of the same IT center) and renews the
 * certificate, for the same key, once the configured fraction of its lifetime has passed. AgentCredentials is
 * registered at run time, not by DS, so the bundle declares that capability itself for the resolver.
 */
@Capability(namespace = "osgi.service", attribute = "objectClass:List<String>=io.ferry.api.channel.AgentCredentials",
        uses = AgentCredentials.class)
@Component(service = { ItCenterLink.class, ItCenterLinkService.class }, immediate = true,
        configurationPid = "io.ferry.itcenter.link", configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = LinkConfig.class)
public final class ItCenterLinkService implements ItCenterLink {

    private static final Logger LOG = Logger.getLogger(ItCenterLinkService.class.getName());
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(30);

    /** The enrolled identity with the client made for it. */
    private record State(Identity identity, HttpsClient client, RevocationTrustManager trust) {
    }

    private final LinkConfig config;
    private final IdentityStore store;
    private final BundleContext context;
    private final Clock clock;
    private final ScheduledExecutorService timer;
    private volatile State state;
    private ServiceRegistration<AgentCredentials> credentials;

    @Activate
    public ItCenterLinkService(LinkConfig config, BundleContext context, @Reference SealStorage seal) {
        this(config, new IdentityStore(seal), context, Clock.systemUTC());
        timer.scheduleWithFixedDelay(this::check, 0, Math.max(1, config.check_minutes()), TimeUnit.MINUTES);
    }

    ItCenterLinkService(LinkConfig config, IdentityStore store, BundleContext context, Clock clock) {
        this.config = config;
        this.store = store;
        this.context = context;
        this.clock = clock;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "ferry-itcenter-link");
            t.setDaemon(true);
            return t;
        });
    }

    @Deactivate
    void deactivate() {
        timer.shutdownNow();
        unregisterCredentials();
    }

    // --- ItCenterLink

    @Override
    public URI uri() {
        if (!config.url().isBlank()) {
            return URI.create(config.url());
        }
        State s = state;
        return s == null ? null : s.identity().itCenter();
    }

    @Override
    public boolean enrolled() {
        return state != null;
    }

    @Override
    public String call(String method, String path, String json, Duration timeout) {
        return client().call(method, path, json, timeout);
    }

    // --- for enrolment and the credentials

    /** The identity, if enrolled. */
    Optional<Identity> identity() {
        State s = state;
        return s == null ? Optional.empty() : Optional.of(s.identity());
    }

    /** A client without a client certificate, with this link's timeouts and retries. */
    HttpsClient anonymousClient(URI base, SSLContext tls) {
        return new HttpsClient(base, tls, Duration.ofSeconds(Math.max(1, config.connect_timeout_seconds())),
                Math.max(0, config.retries()), Duration.ofMillis(Math.max(0, config.retry_delay_ms())));
    }

    /** The root to pin at enrolment from the configuration: the file's fingerprint, else the configured one. */
    Optional<String> configuredRootFingerprint() {
        if (!config.root_certificate().isBlank()) {
            Path file = Path.of(config.root_certificate());
            try {
                return Optional.of(Pki.fingerprint(Pki.certificateFromFile(Files.readAllBytes(file))));
            } catch (IOException | CertificateException e) {
                throw new IllegalStateException("cannot read the IT center root certificate " + file + ": "
                        + e.getMessage(), e);
            }
        }
        return Optional.ofNullable(Pki.normaliseFingerprint(config.root_sha256()));
    }

    /** Stores a new identity (enrolment) and starts using it. */
    synchronized void install(Identity identity) {
        store.save(identity);
        use(identity);
    }

    /** The CRL (DER), fetched over the link's TLS without a client certificate. */
    byte[] fetchCrl() {
        State s = state;
        if (s == null) {
            throw new ItCenterException(Reason.UNAVAILABLE, "not enrolled");
        }
        return s.client().getBytes("crl", CALL_TIMEOUT);
    }

    /** Renews the certificate for the same key now. */
    synchronized Identity renew() {
        State s = state;
        if (s == null) {
            throw new ItCenterException(Reason.UNAVAILABLE, "this agent has not enrolled (agent:enrol)");
        }
        Identity id = s.identity();
        ObjectNode body = JSON.createObjectNode()
                .put("csr", Pki.csr(id.agentId(), new KeyPair(id.certificate().getPublicKey(), id.key())));
        String answer = s.client().call("POST", "certificates/renew", body.toString(), CALL_TIMEOUT);
        X509Certificate[] chain;
        try {
            JsonNode n = JSON.readTree(answer);
            List<X509Certificate> certs = Pki.certificates(n.path("pem").asText());
            chain = checkIssued(certs, id.root(), id.certificate().getPublicKey(), id.agentId());
        } catch (IOException | CertificateException e) {
            throw new ItCenterException(Reason.INVALID, "the renewed certificate is not usable: " + e.getMessage(), e);
        }
        Identity renewed = id.withCertificate(chain);
        store.saveCertificates(renewed);
        use(renewed);
        LOG.info(() -> "renewed certificate of agent " + id.agentId() + ": serial " + renewed.serial()
                + " valid until " + renewed.notAfter());
        return renewed;
    }

    /**
     * The chain the IT center answered, leaf first and without the root, after checking that the leaf is for
     * our key and agent id and is signed by the root we trust.
     */
    static X509Certificate[] checkIssued(List<X509Certificate> certs, X509Certificate root, java.security.PublicKey key,
            String agentId) throws CertificateException {
        X509Certificate leaf = certs.get(0);
        if (!leaf.getPublicKey().equals(key)) {
            throw new CertificateException("the certificate is not for this agent's key");
        }
        if (agentId != null && !agentId.equals(Pki.commonName(leaf))) {
            throw new CertificateException("the certificate names " + Pki.commonName(leaf) + ", not " + agentId);
        }
        try {
            leaf.verify(root.getPublicKey());
        } catch (java.security.GeneralSecurityException e) {
            throw new CertificateException("the certificate was not issued by the pinned IT center root", e);
        }
        leaf.checkValidity();
        return certs.stream().filter(c -> !c.equals(root)).toArray(X509Certificate[]::new);
    }

    // --- internals

    private HttpsClient client() {
        State s = state;
        if (s == null) {
            throw new ItCenterException(Reason.UNAVAILABLE, "this agent has not enrolled at an IT center (agent:enrol)");
        }
        return s.client();
    }

    private void use(Identity identity) {
        URI base = config.url().isBlank() ? identity.itCenter() : URI.create(config.url());
        HttpsClient client = anonymousClient(base, Tls.client(identity));
        State previous = state;
        RevocationTrustManager trust = previous != null && previous.identity().root().equals(identity.root())
                ? previous.trust() : new RevocationTrustManager(identity.root(), this::fetchCrl, clock);
        state = new State(identity, client, trust);
        registerCredentials(trust);
    }

    private synchronized void registerCredentials(RevocationTrustManager trust) {
        if (context == null) {
            return;
        }
        unregisterCredentials();
        credentials = context.registerService(AgentCredentials.class,
                new SealedCredentials(() -> state.identity(), trust), null);
    }

    private synchronized void unregisterCredentials() {
        if (credentials != null) {
            try {
                credentials.unregister();
            } catch (IllegalStateException e) {
                // already gone with the bundle
            }
            credentials = null;
        }
    }

    /** Periodic: load the stored identity if not yet loaded; renew the certificate when it is due. */
    void check() {
        try {
            if (state == null) {
                Optional<Identity> stored = store.load();
                if (stored.isPresent()) {
                    synchronized (this) {
                        if (state == null) {
                            use(stored.get());
                            LOG.info(() -> "enrolled as agent " + stored.get().agentId() + " at "
                                    + stored.get().itCenter());
                        }
                    }
                }
            }
            State s = state;
            if (s != null && renewalDue(s.identity(), clock.instant(), config.renew_fraction())) {
                renew();
            }
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "IT center link check: " + e.getMessage(), e);
        }
    }

    static boolean renewalDue(Identity id, Instant now, double fraction) {
        double f = Math.min(0.9, Math.max(0.1, fraction));
        Duration lifetime = Duration.between(id.notBefore(), id.notAfter());
        Instant due = id.notBefore().plusMillis((long) (lifetime.toMillis() * f));
        return !now.isBefore(due);
    }
}
