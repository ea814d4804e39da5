package io.ferry.itcenter.enrolment;

import java.nio.file.Path;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.regex.Pattern;

import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;

import io.ferry.api.enrolment.Invitation;
import io.ferry.api.enrolment.Invitations;
import io.ferry.api.itcenter.AgentRegistration;
import io.ferry.api.itcenter.AuditEntry;
import io.ferry.api.itcenter.Enrolment;
import io.ferry.api.itcenter.ItCenter;
import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.itcenter.ItCenterException.Reason;
import io.ferry.itcenter.enrolment.EnrolmentChecks.AttestationKey;
import io.ferry.itcenter.internal.ItCenterService;
import io.ferry.itcenter.internal.Store;
import tss.Tss;
import tss.tpm.TPMT_PUBLIC;

/**
 * Attested enrolment, the IT center's side. An administrator invites a device (a single-use token for
 * its name, owner and group). The agent then asks for a challenge with the token, its EK certificate,
 * its EK and its AK: the EK certificate must chain to a configured TPM vendor CA, the EK public area
 * must be that certificate's key, the AK must be a restricted signing key fixed to a TPM; the answer is
 * a MakeCredential of a fresh secret to the AK's name under the EK. The agent completes with the
 * secret (which only that TPM could recover, for that AK), a PKCS#10 request for its TLS key and a quote
 * by the AK whose qualifying data is SHA-256 of that key: the agent is registered, its EK certificate,
 * AK and AK name recorded, its token spent and its first certificate issued in one transaction.
 * Every refusal registers nothing and is audited as {@code enrolment.refused}; the challenge is spent
 * by the first answer, right or wrong.
 */
@Component(service = { Invitations.class, EnrolmentService.class }, configurationPid = "io.ferry.itcenter.enrolment",
        configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = EnrolmentConfig.class)
public final class EnrolmentService implements Invitations {

    /** What the agent sends first. All binary fields base64. */
    public record ChallengeRequest(String name, String token, String group, String ekCertificate, String ekPublic,
            String akPublic) {
    }

    /** MakeCredential's output for TPM2_ActivateCredential, base64, and the challenge to answer. */
    public record Challenge(String challengeId, String integrityHmac, String encIdentity, String encryptedSecret,
            Instant expiresAt) {
    }

    /** The agent's proof: the recovered secret, its TLS key's request, and the AK's quote over that key. */
    public record Completion(String challengeId, String secret, String csr, String quoteAttest, String quoteSignature) {
    }

    /** The enrolled agent and its certificate chain (PEM, root last). */
    public record Enrolled(String agentId, String name, String owner, String group, String serial, Instant notAfter,
            String pem) {
    }

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    private static final Pattern TEXT = Pattern.compile("[^\\p{Cntrl}]{1,128}");
    private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9_-]{16,128}");
    private static final Pattern ID = Pattern.compile("[0-9a-f-]{36}");
    private static final int SECRET_BYTES = 32;
    private static final Duration MAX_INVITATION = Duration.ofDays(30);

    private final Store store;
    private final ItCenterService itCenter;
    private final List<X509Certificate> vendorCas;
    private final Duration challengeLifetime;
    private final Duration defaultValidity;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();

    @Activate
    public EnrolmentService(EnrolmentConfig config, @Reference Store store, @Reference ItCenter itCenter) {
        this(store, itCenter, EnrolmentChecks.loadVendorCas(config.ek_ca_dir().isBlank()
                ? Path.of(System.getProperty("karaf.etc", "etc"), "ferry-ek-ca") : Path.of(config.ek_ca_dir())),
                Duration.ofSeconds(Math.max(10, config.challenge_seconds())),
                Duration.ofHours(Math.max(1, config.invitation_hours())), Clock.systemUTC());
    }

    EnrolmentService(Store store, ItCenter itCenter, List<X509Certificate> vendorCas, Duration challengeLifetime,
            Duration defaultValidity, Clock clock) {
        if (!(itCenter instanceof ItCenterService s)) {
            throw new IllegalStateException("enrolment needs this bundle's own ItCenter service");
        }
        this.store = store;
        this.itCenter = s;
        this.vendorCas = List.copyOf(vendorCas);
        this.challengeLifetime = challengeLifetime;
        this.defaultValidity = defaultValidity;
        this.clock = clock;
    }

    /** How many TPM vendor CAs are trusted (for the console). */
    public int vendorCaCount() {
        return vendorCas.size();
    }

    // --- invitations

    @Override
    public Invitation invite(String name, String owner, String group, Duration validity, String actor) {
        require(name != null && NAME.matcher(name).matches(), "agent name: 1 to 64 characters of A-Z a-z 0-9 . _ -");
        require(owner != null && TEXT.matcher(owner).matches(), "owner: 1 to 128 printable characters");
        require(group != null && TEXT.matcher(group).matches(), "device group: 1 to 128 printable characters");
        Duration v = validity == null ? defaultValidity : validity;
        require(!v.isNegative() && !v.isZero() && v.compareTo(MAX_INVITATION) <= 0, "validity: up to 30 days");
        byte[] raw = new byte[24];
        random.nextBytes(raw);
        String token = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
        String who = actor == null || actor.isBlank() ? "unknown" : actor;
        return store.transaction(t -> {
            EnrolmentTables db = new EnrolmentTables(t.connection());
            if (db.agentNamed(name)) {
                throw new ItCenterException(Reason.CONFLICT, "an agent named '" + name + "' exists already");
            }
            Instant now = clock.instant();
            Instant expires = now.plus(v);
            db.insertInvitation(hash(token), name, owner, group, now, expires, who);
            t.appendAudit(new AuditEntry("enrolment.invited", null, null, who,
                    "name=" + name + " owner=" + owner + " group=" + group + " expires=" + expires), now);
            return new Invitation(name, owner, group, token, expires);
        });
    }

    // --- the agent's two calls

    /** First call: checks token, EK certificate, EK and AK; answers a MakeCredential challenge. */
    public Challenge challenge(ChallengeRequest r, String peer) {
        String name = r == null ? null : r.name();
        try {
            require(r != null, "a JSON body is required");
            require(name != null && NAME.matcher(name).matches(), "name: 1 to 64 characters of A-Z a-z 0-9 . _ -");
            require(r.token() != null && TOKEN.matcher(r.token()).matches(), "token: the invitation's token");
            require(r.group() == null || TEXT.matcher(r.group()).matches(), "group: 1 to 128 printable characters");
            Instant now = clock.instant();
            EnrolmentTables.InvitationRow inv = store.transaction(t -> new EnrolmentTables(t.connection())
                    .invitation(hash(r.token()))).orElseThrow(() -> new EnrolmentRefused("token", "unknown token"));
            checkInvitation(inv, name, now);
            String group = r.group() == null ? inv.group() : r.group();
            if (!group.equals(inv.group())) {
                throw new EnrolmentRefused("token", "the invitation is for group '" + inv.group() + "', not '" + group + "'");
            }
            byte[] ekDer = decode(r.ekCertificate(), "ekCertificate");
            X509Certificate ekCert = EnrolmentChecks.ekCertificate(ekDer, vendorCas, Date.from(now));
            TPMT_PUBLIC ek = EnrolmentChecks.ekPublic(decode(r.ekPublic(), "ekPublic"), ekCert);
            byte[] akArea = decode(r.akPublic(), "akPublic");
            AttestationKey ak = EnrolmentChecks.attestationKey(akArea);
            byte[] secret = new byte[SECRET_BYTES];
            random.nextBytes(secret);
            Tss.ActivationCredential cred;
            try {
                cred = EnrolmentChecks.makeCredential(ek, ak.name(), secret);
            } catch (RuntimeException e) {
                throw new EnrolmentRefused("ek", "MakeCredential failed for this EK: " + e.getMessage());
            }
            String id = UUID.randomUUID().toString();
            Instant expires = now.plus(challengeLifetime);
            store.transaction(t -> {
                new EnrolmentTables(t.connection()).insertChallenge(id, inv.tokenHash(), hash(secret), b64(ekDer),
                        b64(akArea), group, now, expires);
                t.appendAudit(new AuditEntry("enrolment.challenged", null, null, peer(peer),
                        "name=" + name + " challenge=" + id + " ek=" + ekCert.getIssuerX500Principal().getName()
                                + " serial=" + ekCert.getSerialNumber().toString(16) + " ak=" + hex(ak.name())), now);
                return null;
            });
            Base64.Encoder b = Base64.getEncoder();
            return new Challenge(id, b.encodeToString(cred.CredentialBlob.integrityHMAC),
                    b.encodeToString(cred.CredentialBlob.encIdentity), b.encodeToString(cred.Secret), expires);
        } catch (ItCenterException e) {
            refused(e, name, null, peer);
            throw e;
        }
    }

    /** Second call: the secret, the TLS key and the quote; registers the agent and issues its certificate. */
    public Enrolled complete(Completion c, String peer) {
        String challengeId = c == null ? null : c.challengeId();
        String name = null;
        try {
            require(c != null, "a JSON body is required");
            require(challengeId != null && ID.matcher(challengeId).matches(), "challengeId: as the challenge gave it");
            Instant now = clock.instant();
            // spent by this answer, right or wrong: no second guess at the secret, no replay
            EnrolmentTables.ChallengeRow ch = store.transaction(t -> {
                EnrolmentTables db = new EnrolmentTables(t.connection());
                EnrolmentTables.ChallengeRow row = db.challenge(challengeId)
                        .orElseThrow(() -> new EnrolmentRefused("challenge", "unknown challenge " + challengeId));
                if (row.usedAt() != null || !db.spendChallenge(challengeId, now)) {
                    throw new EnrolmentRefused("challenge", Reason.CONFLICT,
                            "challenge " + challengeId + " was answered already (replay?)");
                }
                return row;
            });
            EnrolmentTables.InvitationRow inv = store.transaction(t -> new EnrolmentTables(t.connection())
                    .invitationByHash(ch.tokenHash())).orElseThrow();
            name = inv.name();
            if (!now.isBefore(ch.expiresAt())) {
                throw new EnrolmentRefused("challenge", "challenge " + challengeId + " expired at " + ch.expiresAt());
            }
            byte[] secret = decode(c.secret(), "secret");
            if (!java.security.MessageDigest.isEqual(hash(secret).getBytes(), ch.secretHash().getBytes())) {
                throw new EnrolmentRefused("secret",
                        "the credential's secret is wrong: the AK and EK are not in one TPM");
            }
            checkInvitation(inv, inv.name(), now);
            PublicKey tlsKey = csrKey(c.csr());
            AttestationKey ak = EnrolmentChecks.attestationKey(Base64.getDecoder().decode(ch.akPublicArea()));
            EnrolmentChecks.quote(decode(c.quoteAttest(), "quoteAttest"), decode(c.quoteSignature(), "quoteSignature"),
                    ak, tlsKey);
            String actor = peer(peer);
            String ekB64 = ch.ekCertificate();
            Enrolment e = itCenter.registerAgent(new AgentRegistration(inv.name(), inv.owner(), ch.group(), c.csr()),
                    "enrolment:" + actor, (t, agent, cert, at) -> {
                        EnrolmentTables db = new EnrolmentTables(t.connection());
                        if (!db.spendInvitation(inv.tokenHash(), agent.id(), at)) {
                            throw new EnrolmentRefused("token", Reason.CONFLICT, "the invitation was used already");
                        }
                        db.recordKeys(agent.id(), ekB64, b64(ak.key().getEncoded()), hex(ak.name()));
                        t.appendAudit(new AuditEntry("enrolment.completed", agent.id(), null, actor,
                                "name=" + agent.name() + " owner=" + agent.owner() + " group=" + agent.deviceGroup()
                                        + " ak=" + hex(ak.name()) + " serial=" + cert.serial()), at);
                    });
            return new Enrolled(e.agent().id(), e.agent().name(), e.agent().owner(), e.agent().deviceGroup(),
                    e.certificate().serial(), e.certificate().notAfter(), e.certificate().pem());
        } catch (ItCenterException e) {
            refused(e, name, challengeId, peer);
            throw e;
        }
    }

    private static void checkInvitation(EnrolmentTables.InvitationRow inv, String name, Instant now) {
        if (inv.usedAt() != null) {
            throw new EnrolmentRefused("token", Reason.CONFLICT, "the invitation was used already, at " + inv.usedAt());
        }
        if (!now.isBefore(inv.expiresAt())) {
            throw new EnrolmentRefused("token", "the invitation expired at " + inv.expiresAt());
        }
        if (!inv.name().equals(name)) {
            throw new EnrolmentRefused("token", "the invitation is not for a device named '" + name + "'");
        }
    }

    private void refused(ItCenterException e, String name, String challengeId, String peer) {
        String check = e instanceof EnrolmentRefused r ? r.check() : "request";
        String detail = "check=" + check + (name == null ? "" : " name=" + clip(name, 64))
                + (challengeId == null ? "" : " challenge=" + clip(challengeId, 64)) + ": " + e.getMessage();
        try {
            store.transaction(t -> t.appendAudit(new AuditEntry("enrolment.refused", null, null, peer(peer),
                    clip(detail, 4000)), clock.instant()));
        } catch (RuntimeException ignored) {
            // the refusal stands even if the audit log cannot take it
        }
    }

    /** The key of a PKCS#10 request whose signature proves possession of it. */
    static PublicKey csrKey(String pem) {
        if (pem == null || pem.length() > 8000) {
            throw new EnrolmentRefused("csr", "a PEM certificate request (csr) is required");
        }
        try (org.bouncycastle.openssl.PEMParser p = new org.bouncycastle.openssl.PEMParser(new java.io.StringReader(pem))) {
            Object o = p.readObject();
            if (!(o instanceof PKCS10CertificationRequest req)) {
                throw new EnrolmentRefused("csr", "csr: not a PEM CERTIFICATE REQUEST");
            }
            JcaPKCS10CertificationRequest jca = new JcaPKCS10CertificationRequest(req);
            PublicKey key = jca.getPublicKey();
            if (!req.isSignatureValid(new JcaContentVerifierProviderBuilder().build(key))) {
                throw new EnrolmentRefused("csr", "the certificate request's signature does not verify");
            }
            return key;
        } catch (EnrolmentRefused e) {
            throw e;
        } catch (Exception e) {
            throw new EnrolmentRefused("csr", "csr: not a valid certificate request: " + e.getMessage());
        }
    }

    private static byte[] decode(String b64, String field) {
        if (b64 == null || b64.isEmpty() || b64.length() > 16_000) {
            throw new ItCenterException(Reason.INVALID, field + ": base64, required");
        }
        try {
            return Base64.getDecoder().decode(b64);
        } catch (IllegalArgumentException e) {
            throw new ItCenterException(Reason.INVALID, field + ": not base64");
        }
    }

    static String hash(String token) {
        return hex(EnrolmentChecks.sha256(token.getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
    }

    private static String hash(byte[] secret) {
        return hex(EnrolmentChecks.sha256(secret));
    }

    private static String b64(byte[] b) {
        return Base64.getEncoder().encodeToString(b);
    }

    static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    private static String peer(String peer) {
        return peer == null || peer.isBlank() ? "unknown" : clip(peer, 200);
    }

    private static String clip(String s, int n) {
        return s.length() <= n ? s : s.substring(0, n);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new ItCenterException(Reason.INVALID, message);
        }
    }
}
