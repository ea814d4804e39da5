package io.ferry.itcenter.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.Designate;

import io.ferry.api.itcenter.AccessDeniedException;
import io.ferry.api.itcenter.Agent;
import io.ferry.api.itcenter.AgentRegistration;
import io.ferry.api.itcenter.AgentStatus;
import io.ferry.api.itcenter.AuditEntry;
import io.ferry.api.itcenter.AuditEvent;
import io.ferry.api.itcenter.AuditQuery;
import io.ferry.api.itcenter.Enrolment;
import io.ferry.api.itcenter.IssuedCertificate;
import io.ferry.api.itcenter.ItCenter;
import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.itcenter.ItCenterException.Reason;
import io.ferry.api.seal.SealStorage;
import io.ferry.api.attestation.ReferenceValue;

/**
 * The IT center's logic over a {@link Store} and a {@link CertificateAuthority}: every change and
 * its audit event are written in one transaction.
 */
@Component(service = ItCenter.class, configurationPid = "io.ferry.itcenter",
        configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = ItCenterConfig.class)
public final class ItCenterService implements ItCenter {

    /** What activation makes from the configuration. */
    private record Setup(Store store, CertificateAuthority ca, ItCenterConfig config) {
    }

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    private static final Pattern KIND = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
    private static final Pattern TEXT = Pattern.compile("[^\\p{Cntrl}]{1,128}");
    private static final Pattern SERIAL = Pattern.compile("[0-9a-f]{1,64}");

    private final Store store;
    private final CertificateAuthority ca;
    private final Clock clock;
    private final Duration certificateLifetime;
    private final Duration crlValidity;

    @Activate
    public ItCenterService(ItCenterConfig config, @Reference ConfigurationAdmin configurationAdmin,
            @Reference Store store,
            @Reference(cardinality = ReferenceCardinality.OPTIONAL, policyOption = ReferencePolicyOption.GREEDY)
            SealStorage seal) {
        this(setup(config, configurationAdmin, store, seal));
    }

    private ItCenterService(Setup s) {
        this(s.store(), s.ca(), Clock.systemUTC(), Duration.ofHours(s.config().certificate_lifetime_hours()),
                Duration.ofMinutes(s.config().crl_validity_minutes()));
    }

    private static Setup setup(ItCenterConfig config, ConfigurationAdmin cm, Store store, SealStorage seal) {
        Path home = Database.home();
        Path keystore = config.ca_keystore().isBlank() ? home.resolve("ca/root.p12") : Path.of(config.ca_keystore());
        Path passFile = config.ca_passphrase_file().isBlank() ? home.resolve("ca/root.pass")
                : Path.of(config.ca_passphrase_file());
        // sealed when seal storage is there (migrated from the file once), else the file (RootPassphrase)
        CertificateAuthority ca = CertificateAuthority.openOrCreate(keystore, RootPassphrase.obtain(passFile, seal, keystore),
                config.ca_name(),
                Clock.systemUTC());
        if (config.https_manage()) {
            HttpsEndpoint.configure(cm, ca, home.resolve("tls"), List.of(config.https_hosts()),
                    config.https_address(), config.https_port());
        }
        return new Setup(store, ca, config);
    }

    ItCenterService(Store store, CertificateAuthority ca, Clock clock, Duration certificateLifetime,
            Duration crlValidity) {
        this.store = store;
        this.ca = ca;
        this.clock = clock;
        this.certificateLifetime = certificateLifetime;
        this.crlValidity = crlValidity;
    }

    @Override
    public List<Agent> agents() {
        return store.transaction(Tables::agents);
    }

    @Override
    public Optional<Agent> agent(String id) {
        if (id == null || id.length() > 64) {
            return Optional.empty();
        }
        return store.transaction(t -> t.agent(id));
    }

    /**
     * More work on a newly registered agent, in the registration's own transaction: a failure rolls the
     * registration back (attested enrolment records the agent's EK and AK and spends its token this way).
     */
    @FunctionalInterface
    public interface AgentWork {
        void run(Tables tables, Agent agent, IssuedCertificate certificate, Instant now) throws java.sql.SQLException;
    }

    @Override
    public Enrolment registerAgent(AgentRegistration r, String actor) {
        return registerAgent(r, actor, null);
    }

    /** {@link #registerAgent(AgentRegistration, String)} with more work in the same transaction. */
    public Enrolment registerAgent(AgentRegistration r, String actor, AgentWork also) {
        require(r != null, "a registration is required");
        require(r.name() != null && NAME.matcher(r.name()).matches(),
                "agent name: 1 to 64 characters of A-Z a-z 0-9 . _ -");
        require(r.owner() != null && TEXT.matcher(r.owner()).matches(), "owner: 1 to 128 printable characters");
        require(r.deviceGroup() != null && TEXT.matcher(r.deviceGroup()).matches(),
                "device group: 1 to 128 printable characters");
        PublicKey key = CertificateAuthority.publicKey(r.publicKeyPem());
        String id = UUID.randomUUID().toString();
        return store.transaction(t -> {
            if (t.agentByName(r.name()).isPresent()) {
                throw new ItCenterException(Reason.CONFLICT, "an agent named '" + r.name() + "' exists already");
            }
            Instant now = clock.instant();
            t.insertAgent(id, r.name(), r.owner(), r.deviceGroup(), now);
            IssuedCertificate cert = issue(t, id, r.deviceGroup(), key, now);
            t.appendAudit(new AuditEntry("agent.registered", id, null, actor(actor),
                    "name=" + r.name() + " owner=" + r.owner() + " group=" + r.deviceGroup() + " serial=" + cert.serial()
                            + " notAfter=" + cert.notAfter()), now);
            Agent agent = t.agent(id).orElseThrow();
            if (also != null) {
                also.run(t, agent, cert, now);
            }
            return new Enrolment(agent, cert);
        });
    }

    @Override
    public IssuedCertificate renew(String agentId, String csrPem, String actor) {
        PublicKey key = CertificateAuthority.csrPublicKey(csrPem);
        return store.transaction(t -> {
            Agent agent = t.agent(agentId).orElseThrow(() -> notFound(agentId));
            if (agent.status() != AgentStatus.ACTIVE) {
                throw new ItCenterException(Reason.CONFLICT, "agent " + agentId + " is revoked and cannot renew");
            }
            Instant now = clock.instant();
            IssuedCertificate cert = issue(t, agentId, agent.deviceGroup(), key, now);
            t.appendAudit(new AuditEntry("certificate.renewed", agentId, null, actor(actor),
                    "serial=" + cert.serial() + " notAfter=" + cert.notAfter()), now);
            return cert;
        });
    }

    private IssuedCertificate issue(Tables t, String agentId, String group, PublicKey key, Instant now)
            throws java.sql.SQLException {
        CertificateAuthority.Issued issued = ca.issueAgent(agentId, group, key, certificateLifetime);
        X509Certificate c = issued.certificate();
        String pem = CertificateAuthority.pem(c, ca.root());
        t.insertCertificate(issued.serial(), agentId, c.getNotBefore().toInstant(), c.getNotAfter().toInstant(),
                CertificateAuthority.pem(c), now);
        return new IssuedCertificate(agentId, issued.serial(), c.getNotBefore().toInstant(),
                c.getNotAfter().toInstant(), pem);
    }

    @Override
    public List<String> revoke(String agentId, String reason, String actor) {
        String why = reason == null || reason.isBlank() ? "unspecified" : reason.strip();
        require(why.length() <= 200, "reason: at most 200 characters");
        return store.transaction(t -> {
            Agent agent = t.agent(agentId).orElseThrow(() -> notFound(agentId));
            if (agent.status() == AgentStatus.REVOKED) {
                throw new ItCenterException(Reason.CONFLICT, "agent " + agentId + " is revoked already");
            }
            Instant now = clock.instant();
            t.insertAgentRevocation(agentId, now, why);
            List<String> serials = new ArrayList<>();
            for (Tables.CertificateRow row : t.certificates(agentId)) {
                if (row.revokedAt() == null) {
                    t.insertRevocation(row.serial(), now, why);
                    serials.add(row.serial());
                }
            }
            t.appendAudit(new AuditEntry("agent.revoked", agentId, null, actor(actor),
                    "reason=" + why + " serials=" + String.join(",", serials)), now);
            return serials;
        });
    }

    @Override
    public Agent authenticate(X509Certificate[] chain, String action, String peer) {
        String agentId = null;
        try {
            if (chain == null || chain.length == 0) {
                throw new AccessDeniedException(AccessDeniedException.Reason.NO_CERTIFICATE,
                        "no client certificate was presented");
            }
            X509Certificate leaf = chain[0];
            ca.verify(leaf);
            String serial = CertificateAuthority.serial(leaf);
            record Holder(Tables.CertificateRow row, Optional<Agent> agent) {
            }
            // the certificate and its agent in one transaction: every agent request comes through here
            Holder held = store.transaction(t -> {
                Optional<Tables.CertificateRow> r = t.certificate(serial);
                return new Holder(r.orElse(null), r.isEmpty() ? Optional.empty() : t.agent(r.get().agentId()));
            });
            Tables.CertificateRow row = held.row();
            if (row == null) {
                throw new AccessDeniedException(AccessDeniedException.Reason.FOREIGN,
                        "certificate " + serial + " was not issued to an agent");
            }
            agentId = row.agentId();
            String id = agentId;
            Agent agent = held.agent().orElseThrow(() -> new AccessDeniedException(
                    AccessDeniedException.Reason.FOREIGN, "certificate " + serial + " names no known agent"));
            if (row.revokedAt() != null || agent.status() == AgentStatus.REVOKED) {
                throw new AccessDeniedException(AccessDeniedException.Reason.REVOKED,
                        "certificate " + serial + " of agent " + id + " is revoked");
            }
            return agent;
        } catch (AccessDeniedException e) {
            audit(new AuditEntry("access.refused", agentId, null, peer == null ? "unknown" : clip(peer, 200),
                    clip(e.reason() + ": " + e.getMessage() + "; action=" + action, 4000)));
            throw e;
        }
    }

    @Override
    public AuditEvent audit(AuditEntry e) {
        require(e != null, "an audit event is required");
        require(e.kind() != null && KIND.matcher(e.kind()).matches(), "kind: 1 to 64 characters of a-z 0-9 . _ -");
        require(e.agent() == null || e.agent().length() <= 64, "agent: at most 64 characters");
        require(e.vm() == null || (e.vm().length() <= 128 && !e.vm().isEmpty()), "vm: 1 to 128 characters");
        require(e.actor() != null && !e.actor().isBlank() && e.actor().length() <= 200, "actor: 1 to 200 characters");
        require(e.detail() == null || e.detail().length() <= 4000, "detail: at most 4000 characters");
        AuditEntry entry = e.detail() == null ? new AuditEntry(e.kind(), e.agent(), e.vm(), e.actor(), "") : e;
        return store.transaction(t -> t.appendAudit(entry, clock.instant()));
    }

    @Override
    public List<AuditEvent> audit(AuditQuery q) {
        require(q != null && q.limit() >= 1 && q.limit() <= 10_000, "limit: 1 to 10000");
        require(q.kind() == null || q.kind().length() <= 66, "kind: at most 64 characters");
        return store.transaction(t -> t.audit(q));
    }

    @Override
    public byte[] crl() {
        List<Tables.Revoked> revoked = store.transaction(Tables::revocations);
        return ca.crl(revoked, crlValidity, clock.millis());
    }

    @Override
    public X509Certificate rootCertificate() {
        return ca.root();
    }

    @Override
    public List<ReferenceValue> referenceValues() {
        return store.transaction(Tables::referenceValues);
    }

    /** Records reference values of a release (the repository's publishing will call this). */
    void publish(List<ReferenceValue> values, String actor) {
        for (ReferenceValue v : values) {
            require(v.sha256() != null && v.sha256().matches("[0-9a-f]{64}"), "sha256: 64 lower-case hex digits");
            require(v.component() != null && !v.component().isBlank() && v.component().length() <= 200, "component");
            require(v.version() != null && !v.version().isBlank() && v.version().length() <= 100, "version");
            require(v.release() != null && !v.release().isBlank() && v.release().length() <= 100, "release");
        }
        store.transaction(t -> {
            Instant now = clock.instant();
            for (ReferenceValue v : values) {
                t.insertReferenceValue(new ReferenceValue(v.component(), v.version(), v.sha256(), v.release(), now));
                t.appendAudit(new AuditEntry("reference.published", null, null, actor(actor),
                        v.component() + " " + v.version() + " sha256=" + v.sha256() + " release=" + v.release()), now);
            }
            return null;
        });
    }

    /** The certificates of an agent, for the console and tests. */
    List<Tables.CertificateRow> certificates(String agentId) {
        return store.transaction(t -> t.certificates(agentId));
    }

    static boolean isSerial(String s) {
        return s != null && SERIAL.matcher(s).matches();
    }

    private static String actor(String actor) {
        return actor == null || actor.isBlank() ? "unknown" : clip(actor, 200);
    }

    private static String clip(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max);
    }

    private static ItCenterException notFound(String agentId) {
        return new ItCenterException(Reason.NOT_FOUND, "no agent " + agentId);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new ItCenterException(Reason.INVALID, message);
        }
    }
}
