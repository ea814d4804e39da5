package io.ferry.tpm.internal;

import java.nio.ByteBuffer;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.Designate;

import io.ferry.api.tpm.Attestation;
import io.ferry.api.tpm.KeyBlob;
import io.ferry.api.tpm.NvCounter;
import io.ferry.api.tpm.Pcr;
import io.ferry.api.tpm.PolicyStep;
import io.ferry.api.tpm.Quote;
import io.ferry.api.tpm.Tpm;
import io.ferry.api.tpm.TpmException;
import io.ferry.api.tpm.TpmInfo;
import io.ferry.api.tpm.TpmPolicyException;
import io.ferry.api.tpm.TpmPublic;
import io.ferry.api.tpm.TpmUnavailableException;
import tss.TpmDevice;
import tss.tpm.CertifyResponse;
import tss.tpm.CreatePrimaryResponse;
import tss.tpm.CreateResponse;
import tss.tpm.GetCapabilityResponse;
import tss.tpm.NV_ReadPublicResponse;
import tss.tpm.PCR_ReadResponse;
import tss.tpm.QuoteResponse;
import tss.tpm.TPM2B_PRIVATE;
import tss.tpm.TPMA_NV;
import tss.tpm.TPML_TAGGED_TPM_PROPERTY;
import tss.tpm.TPMS_ID_OBJECT;
import tss.tpm.TPMS_NULL_SIG_SCHEME;
import tss.tpm.TPMS_NV_PUBLIC;
import tss.tpm.TPMS_PCR_SELECTION;
import tss.tpm.TPMS_SENSITIVE_CREATE;
import tss.tpm.TPMS_TAGGED_PROPERTY;
import tss.tpm.TPMT_HA;
import tss.tpm.TPMT_PUBLIC;
import tss.tpm.TPMT_SIGNATURE;
import tss.tpm.TPMT_SYM_DEF;
import tss.tpm.TPMT_TK_HASHCHECK;
import tss.tpm.TPMT_TK_VERIFIED;
import tss.tpm.TPMU_SIGNATURE;
import tss.tpm.TPM_ALG_ID;
import tss.tpm.TPM_CAP;
import tss.tpm.TPM_EO;
import tss.tpm.TPM_HANDLE;
import tss.tpm.TPM_PT;
import tss.tpm.TPM_RC;
import tss.tpm.TPM_SE;
import tss.tpm.TPM_SU;

/**
 * The {@link Tpm} service over TSS.Java. One connection, used under a lock by one command
 * sequence at a time; the storage root key and the attestation key are primaries re-created
 * (deterministically, from the hierarchy seeds) on every connection and flushed on close.
 */
@Component(service = Tpm.class, configurationPid = "io.ferry.tpm", configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = TpmConfig.class)
public final class TssTpm implements Tpm {

    static final int EK_PERSISTENT = 0x81010001;
    static final int EK_CERT_NV = 0x01C00002;

    private final Supplier<TpmDevice> deviceFactory;
    private final String deviceName;
    private final SecureRandom random = new SecureRandom();
    private final Object lock = new Object();

    private tss.Tpm tpm;
    private TpmDevice device;
    private TPM_HANDLE srk;
    private TpmPublic srkPublic;
    private TPM_HANDLE ak;
    private TpmPublic akPublic;
    private boolean closed;

    @Activate
    public TssTpm(TpmConfig config) {
        this(factory(config), describe(config));
    }

    /** A TPM behind swtpm's TCP server (tests, benchmarks). */
    public static TssTpm swtpm(String host, int port) {
        return new TssTpm(() -> new SwtpmTcpDevice(host, port, 10_000), "swtpm tcp " + host + ":" + port);
    }

    /** A TPM behind any TSS.Java device, e.g. TSS.Java's own TpmDeviceTcp (for the benchmark). */
    public TssTpm(Supplier<TpmDevice> deviceFactory, String deviceName) {
        this.deviceFactory = deviceFactory;
        this.deviceName = deviceName;
    }

    private static Supplier<TpmDevice> factory(TpmConfig config) {
        if ("device".equals(config.device())) {
            return () -> new CharDevice(config.device_path());
        }
        if (!"swtpm".equals(config.device())) {
            throw new IllegalArgumentException("io.ferry.tpm: device must be swtpm or device, not " + config.device());
        }
        return () -> new SwtpmTcpDevice(config.swtpm_host(), config.swtpm_port(), config.timeout_ms());
    }

    private static String describe(TpmConfig config) {
        return "device".equals(config.device()) ? config.device_path()
                : "swtpm tcp " + config.swtpm_host() + ":" + config.swtpm_port();
    }

    /** Flushes Ferry's objects, shuts the TPM down (TPM2_Shutdown(CLEAR)) and closes the connection. */
    @Deactivate
    public void close() {
        synchronized (lock) {
            closed = true;
            if (tpm != null) {
                try {
                    flush(ak);
                    flush(srk);
                    tpm._allowErrors().Shutdown(TPM_SU.CLEAR);
                } catch (RuntimeException e) {
                    // the TPM is gone already; nothing to shut down
                }
            }
            disconnect();
        }
    }

    @Override
    public void release() {
        synchronized (lock) {
            if (tpm != null) {
                try {
                    flush(ak);
                    flush(srk);
                } catch (RuntimeException e) {
                    // the TPM is gone already
                }
            }
            disconnect();
        }
    }

    // ---- connection -------------------------------------------------------------------------

    private interface Op<T> {
        T run(tss.Tpm t);
    }

    private <T> T call(String operation, Op<T> op) {
        synchronized (lock) {
            if (closed) {
                throw new TpmUnavailableException(operation, "the TPM service (" + deviceName + ") is stopped", null);
            }
            try {
                ensureConnected(operation);
                return op.run(tpm);
            } catch (DeviceException e) {
                disconnect();
                throw new TpmUnavailableException(operation, e.getMessage() + " (the next call reconnects)", e);
            } catch (tss.TpmException e) {
                if (causedByDevice(e)) {
                    disconnect();
                    throw new TpmUnavailableException(operation, deviceName + ": " + e.getMessage(), e);
                }
                throw new TpmException(operation, deviceName + ": " + e.getMessage(),
                        e.ResponseCode == null ? null : e.ResponseCode.name(), e);
            }
        }
    }

    private static boolean causedByDevice(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof DeviceException) {
                return true;
            }
            if (t instanceof tss.TpmException te && te.NestedException instanceof DeviceException) {
                return true;
            }
        }
        return false;
    }

    private void ensureConnected(String operation) {
        if (tpm != null) {
            return;
        }
        TpmDevice d = deviceFactory.get();
        if (!d.connect()) {
            throw new TpmUnavailableException(operation, "cannot connect to " + deviceName, null);
        }
        tss.Tpm t = new tss.Tpm();
        t._setDevice(d);
        device = d;
        tpm = t;
        try {
            CreatePrimaryResponse s = t.CreatePrimary(TPM_HANDLE.from(tss.tpm.TPM_RH.OWNER),
                    new TPMS_SENSITIVE_CREATE(), Templates.srk(), new byte[0], new TPMS_PCR_SELECTION[0]);
            srk = s.handle;
            srkPublic = Templates.toPublic(s.outPublic);
            CreatePrimaryResponse a = t.CreatePrimary(TPM_HANDLE.from(tss.tpm.TPM_RH.ENDORSEMENT),
                    new TPMS_SENSITIVE_CREATE(), Templates.ak(), new byte[0], new TPMS_PCR_SELECTION[0]);
            ak = a.handle;
            akPublic = Templates.toPublic(a.outPublic);
        } catch (RuntimeException e) {
            disconnect();
            throw e;
        }
    }

    private void disconnect() {
        TpmDevice d = device;
        tpm = null;
        device = null;
        srk = null;
        ak = null;
        if (d != null) {
            d.close();
        }
    }

    private void flush(TPM_HANDLE h) {
        if (h != null && tpm != null) {
            tpm._allowErrors().FlushContext(h);
        }
    }

    /** Runs a TPM command that may fail expectedly, without TSS.Java printing "TPM ERROR". */
    private static TPM_RC lastCode(tss.Tpm t) {
        return t._getLastResponseCode();
    }

    // ---- Tpm --------------------------------------------------------------------------------

    @Override
    public TpmInfo info() {
        return call("info", t -> {
            GetCapabilityResponse r = t.GetCapability(TPM_CAP.TPM_PROPERTIES, TPM_PT.MANUFACTURER.toInt(), 8);
            int manufacturer = 0;
            int fw1 = 0;
            int fw2 = 0;
            for (TPMS_TAGGED_PROPERTY p : ((TPML_TAGGED_TPM_PROPERTY) r.capabilityData).tpmProperty) {
                if (p.property == TPM_PT.MANUFACTURER) {
                    manufacturer = p.value;
                } else if (p.property == TPM_PT.FIRMWARE_VERSION_1) {
                    fw1 = p.value;
                } else if (p.property == TPM_PT.FIRMWARE_VERSION_2) {
                    fw2 = p.value;
                }
            }
            String m = new String(ByteBuffer.allocate(4).putInt(manufacturer).array(),
                    java.nio.charset.StandardCharsets.US_ASCII).replace("\0", "").trim();
            String fw = (fw1 >>> 16) + "." + (fw1 & 0xffff) + "." + (fw2 >>> 16) + "." + (fw2 & 0xffff);
            return new TpmInfo(deviceName, m, fw, true);
        });
    }

    @Override
    public List<Pcr> readPcrs(int... indexes) {
        for (int i : indexes) {
            checkPcr("readPcrs", i);
        }
        return call("readPcrs", t -> {
            List<Pcr> out = new ArrayList<>();
            for (int i : indexes) {
                PCR_ReadResponse r = t.PCR_Read(new TPMS_PCR_SELECTION[] {
                        new TPMS_PCR_SELECTION(TPM_ALG_ID.SHA256, new int[] { i }) });
                if (r.pcrValues.length != 1) {
                    throw new TpmException("readPcrs", "PCR " + i + " of the SHA-256 bank is not allocated");
                }
                out.add(new Pcr(i, r.pcrValues[0].buffer));
            }
            return out;
        });
    }

    @Override
    public Pcr extendPcr(int index, byte[] sha256Digest) {
        checkPcr("extendPcr", index);
        if (sha256Digest.length != 32) {
            throw new IllegalArgumentException("extendPcr: a SHA-256 digest has 32 bytes, not " + sha256Digest.length);
        }
        return call("extendPcr", t -> {
            t.PCR_Extend(TPM_HANDLE.pcr(index), new TPMT_HA[] { new TPMT_HA(TPM_ALG_ID.SHA256, sha256Digest) });
            PCR_ReadResponse r = t.PCR_Read(new TPMS_PCR_SELECTION[] {
                    new TPMS_PCR_SELECTION(TPM_ALG_ID.SHA256, new int[] { index }) });
            return new Pcr(index, r.pcrValues[0].buffer);
        });
    }

    private static void checkPcr(String op, int i) {
        if (i < 0 || i > 23) {
            throw new IllegalArgumentException(op + ": no PCR " + i + " (0 to 23)");
        }
    }

    @Override
    public TpmPublic storageRootKey() {
        return call("storageRootKey", t -> srkPublic);
    }

    @Override
    public TpmPublic attestationKey() {
        return call("attestationKey", t -> akPublic);
    }

    @Override
    public TpmPublic endorsementKey() {
        return call("endorsementKey", t -> {
            TPM_HANDLE ek = TPM_HANDLE.persistent(EK_PERSISTENT - 0x81000000);
            tss.tpm.ReadPublicResponse r = t._allowErrors().ReadPublic(ek);
            if (lastCode(t) == TPM_RC.SUCCESS) {
                return Templates.toPublic(r.outPublic);
            }
            CreatePrimaryResponse c = t.CreatePrimary(TPM_HANDLE.from(tss.tpm.TPM_RH.ENDORSEMENT),
                    new TPMS_SENSITIVE_CREATE(), Templates.ek(), new byte[0], new TPMS_PCR_SELECTION[0]);
            flushNow(t, c.handle);
            return Templates.toPublic(c.outPublic);
        });
    }

    private static void flushNow(tss.Tpm t, TPM_HANDLE h) {
        if (h != null) {
            t._allowErrors().FlushContext(h);
        }
    }

    @Override
    public Optional<byte[]> endorsementCertificate() {
        return call("endorsementCertificate", t -> {
            TPM_HANDLE nv = TPM_HANDLE.NV(EK_CERT_NV & 0x00ffffff);
            NV_ReadPublicResponse pub = t._allowErrors().NV_ReadPublic(nv);
            if (lastCode(t) != TPM_RC.SUCCESS) {
                return Optional.<byte[]>empty();
            }
            int size = pub.nvPublic.dataSize;
            byte[] out = new byte[size];
            int chunk = 512;
            for (int off = 0; off < size; off += chunk) {
                int n = Math.min(chunk, size - off);
                // the EK certificate index is readable with an empty owner password (PPREAD/OWNERREAD)
                byte[] part = t.NV_Read(TPM_HANDLE.from(tss.tpm.TPM_RH.OWNER), nv, n, off);
                System.arraycopy(part, 0, out, off, n);
            }
            return Optional.of(trimDer(out));
        });
    }

    /** NV certificate indexes may be larger than the certificate: keep the outer DER SEQUENCE. */
    private static byte[] trimDer(byte[] b) {
        if (b.length > 4 && (b[0] & 0xff) == 0x30 && (b[1] & 0xff) == 0x82) {
            int len = ((b[2] & 0xff) << 8 | (b[3] & 0xff)) + 4;
            if (len <= b.length) {
                return Arrays.copyOf(b, len);
            }
        }
        return b;
    }

    @Override
    public KeyBlob createSigningKey() {
        return call("createSigningKey", t -> {
            CreateResponse r = t.Create(srk, new TPMS_SENSITIVE_CREATE(), Templates.signingKey(), new byte[0],
                    new TPMS_PCR_SELECTION[0]);
            return new KeyBlob(r.outPublic.toBytes(), r.outPrivate.buffer);
        });
    }

    @Override
    public TpmPublic publicOf(KeyBlob key) {
        try {
            return Templates.toPublic(TPMT_PUBLIC.fromBytes(key.publicArea()));
        } catch (RuntimeException e) {
            throw new TpmException("publicOf", "not a TPM public area: " + e.getMessage());
        }
    }

    @Override
    public byte[] sign(KeyBlob key, byte[] sha256Digest) {
        if (sha256Digest.length != 32) {
            throw new IllegalArgumentException("sign: a SHA-256 digest has 32 bytes, not " + sha256Digest.length);
        }
        return call("sign", t -> {
            TPM_HANDLE h = load(t, "sign", key);
            try {
                TPMU_SIGNATURE s = t.Sign(h, sha256Digest, new TPMS_NULL_SIG_SCHEME(), TPMT_TK_HASHCHECK.nullTicket());
                return Signatures.toDer(s);
            } finally {
                flushNow(t, h);
            }
        });
    }

    private TPM_HANDLE load(tss.Tpm t, String operation, KeyBlob key) {
        TPMT_PUBLIC pub;
        try {
            pub = TPMT_PUBLIC.fromBytes(key.publicArea());
        } catch (RuntimeException e) {
            throw new TpmException(operation, "the key's public area is not readable: " + e.getMessage());
        }
        TPM_HANDLE h = t._allowErrors().Load(srk, new TPM2B_PRIVATE(key.privateArea()), pub);
        TPM_RC rc = lastCode(t);
        if (rc != TPM_RC.SUCCESS) {
            throw new TpmException(operation, "the TPM refuses to load the object (" + rc.name()
                    + "): it was made by another TPM, or it is damaged", rc.name(), null);
        }
        return h;
    }

    @Override
    public KeyBlob seal(byte[] secret, byte[] policyDigest) {
        if (secret.length == 0 || secret.length > MAX_SEALED_BYTES) {
            throw new IllegalArgumentException("seal: between 1 and " + MAX_SEALED_BYTES + " bytes, not " + secret.length);
        }
        if (policyDigest.length != 32) {
            throw new IllegalArgumentException("seal: a SHA-256 policy digest has 32 bytes, not " + policyDigest.length);
        }
        return call("seal", t -> {
            CreateResponse r = t.Create(srk, new TPMS_SENSITIVE_CREATE(new byte[0], secret),
                    Templates.sealed(policyDigest), new byte[0], new TPMS_PCR_SELECTION[0]);
            return new KeyBlob(r.outPublic.toBytes(), r.outPrivate.buffer);
        });
    }

    @Override
    public byte[] unseal(KeyBlob sealed, List<PolicyStep> policy) {
        return call("unseal", t -> {
            TPM_HANDLE session = null;
            TPM_HANDLE object = null;
            try {
                session = startPolicySession(t);
                for (PolicyStep step : policy) {
                    runStep(t, session, step);
                }
                object = load(t, "unseal", sealed);
                byte[] secret = t._withSession(session)._allowErrors().Unseal(object);
                TPM_RC rc = lastCode(t);
                if (rc != TPM_RC.SUCCESS) {
                    throw new TpmPolicyException("unseal", "the TPM refuses to unseal (" + rc.name()
                            + "): the policy session does not satisfy the object's policy", rc.name());
                }
                return secret;
            } finally {
                flushNow(t, object);
                flushNow(t, session);
            }
        });
    }

    private TPM_HANDLE startPolicySession(tss.Tpm t) {
        byte[] nonce = new byte[16];
        random.nextBytes(nonce);
        return t.StartAuthSession(TPM_HANDLE.NULL, TPM_HANDLE.NULL, nonce, new byte[0], TPM_SE.POLICY,
                TPMT_SYM_DEF.nullObject(), TPM_ALG_ID.SHA256).handle;
    }

    private void runStep(tss.Tpm t, TPM_HANDLE session, PolicyStep step) {
        if (step instanceof PolicyStep.PolicyPcr p) {
            t._allowErrors().PolicyPCR(session, new byte[0], new TPMS_PCR_SELECTION[] {
                    new TPMS_PCR_SELECTION(TPM_ALG_ID.SHA256, p.pcrs().stream().mapToInt(Integer::intValue).toArray()) });
            check(t, "PolicyPCR " + p.pcrs());
        } else if (step instanceof PolicyStep.PolicyNv n) {
            TPM_HANDLE nv = TPM_HANDLE.NV(n.nvIndex() & 0x00ffffff);
            TPM_EO op = switch (n.comparison()) {
                case EQ -> TPM_EO.EQ;
                case UNSIGNED_LE -> TPM_EO.UNSIGNED_LE;
                case UNSIGNED_GE -> TPM_EO.UNSIGNED_GE;
            };
            t._allowErrors().PolicyNV(nv, nv, session, n.operand(), 0, op);
            check(t, String.format("PolicyNV 0x%08x %s", n.nvIndex(), n.comparison()));
        } else if (step instanceof PolicyStep.PolicyAuthorize a) {
            TPM_HANDLE key = null;
            try {
                TPMT_PUBLIC pub = Templates.external(a.key());
                key = t.LoadExternal(null, pub, TPM_HANDLE.from(tss.tpm.TPM_RH.OWNER));
                byte[] aHash = io.ferry.api.tpm.PolicyDigests.approvalHash(a.approvedPolicy(), a.policyRef());
                TPMU_SIGNATURE sig;
                try {
                    sig = Signatures.toTpm(a.key(), a.signature());
                } catch (IllegalArgumentException e) {
                    throw new TpmPolicyException("unseal", "the authorization's signature is malformed: "
                            + e.getMessage(), null);
                }
                TPMT_TK_VERIFIED ticket = t._allowErrors().VerifySignature(key, aHash, sig);
                check(t, "VerifySignature of the authorization");
                t._allowErrors().PolicyAuthorize(session, a.approvedPolicy(), a.policyRef(), pub.getName(), ticket);
                check(t, "PolicyAuthorize");
            } finally {
                flushNow(t, key);
            }
        }
    }

    private static void check(tss.Tpm t, String what) {
        TPM_RC rc = lastCode(t);
        if (rc != TPM_RC.SUCCESS) {
            throw new TpmPolicyException("unseal", what + " failed: " + rc.name(), rc.name());
        }
    }

    @Override
    public Quote quote(byte[] qualifyingData, int... pcrs) {
        for (int i : pcrs) {
            checkPcr("quote", i);
        }
        if (qualifyingData.length > 64) {
            throw new IllegalArgumentException("quote: at most 64 bytes of qualifying data, not " + qualifyingData.length);
        }
        QuoteResponse q = call("quote", t -> t.Quote(ak, qualifyingData, new TPMS_NULL_SIG_SCHEME(),
                new TPMS_PCR_SELECTION[] { new TPMS_PCR_SELECTION(TPM_ALG_ID.SHA256, pcrs) }));
        List<Pcr> values = readPcrs(Arrays.stream(pcrs).sorted().toArray());
        return new Quote(q.quoted.toBytes(), new TPMT_SIGNATURE(q.signature).toBytes(), Signatures.toDer(q.signature),
                values);
    }

    @Override
    public Attestation certify(KeyBlob key, byte[] qualifyingData) {
        return call("certify", t -> {
            TPM_HANDLE h = load(t, "certify", key);
            try {
                CertifyResponse c = t.Certify(h, ak, qualifyingData, new TPMS_NULL_SIG_SCHEME());
                return new Attestation(c.certifyInfo.toBytes(), new TPMT_SIGNATURE(c.signature).toBytes(),
                        Signatures.toDer(c.signature));
            } finally {
                flushNow(t, h);
            }
        });
    }

    @Override
    public byte[] activateCredential(byte[] integrityHmac, byte[] encIdentity, byte[] encryptedSecret) {
        TPMS_ID_OBJECT id = new TPMS_ID_OBJECT(integrityHmac, encIdentity);
        return call("activateCredential", t -> {
            TPM_HANDLE ek = null;
            TPM_HANDLE session = null;
            boolean transientEk = false;
            try {
                ek = TPM_HANDLE.persistent(EK_PERSISTENT - 0x81000000);
                t._allowErrors().ReadPublic(ek);
                if (lastCode(t) != TPM_RC.SUCCESS) {
                    ek = t.CreatePrimary(TPM_HANDLE.from(tss.tpm.TPM_RH.ENDORSEMENT), new TPMS_SENSITIVE_CREATE(),
                            Templates.ek(), new byte[0], new TPMS_PCR_SELECTION[0]).handle;
                    transientEk = true;
                }
                session = startPolicySession(t);
                t.PolicySecret(TPM_HANDLE.from(tss.tpm.TPM_RH.ENDORSEMENT), session, new byte[0], new byte[0],
                        new byte[0], 0);
                byte[] secret = t._withSessions(TPM_HANDLE.pwSession(new byte[0]), session)._allowErrors()
                        .ActivateCredential(ak, ek, id, encryptedSecret);
                TPM_RC rc = lastCode(t);
                if (rc != TPM_RC.SUCCESS) {
                    throw new TpmException("activateCredential", "the TPM refuses the credential (" + rc.name()
                            + "): it was not made for this EK and AK, or it is damaged", rc.name(), null);
                }
                return secret;
            } finally {
                flushNow(t, session);
                if (transientEk) {
                    flushNow(t, ek);
                }
            }
        });
    }

    @Override
    public NvCounter counter(int nvIndex) {
        return call("counter", t -> {
            TPM_HANDLE nv = nvHandle(nvIndex);
            NV_ReadPublicResponse pub = t._allowErrors().NV_ReadPublic(nv);
            if (lastCode(t) != TPM_RC.SUCCESS) {
                t.NV_DefineSpace(TPM_HANDLE.from(tss.tpm.TPM_RH.OWNER), new byte[0], new TPMS_NV_PUBLIC(nv,
                        TPM_ALG_ID.SHA256, new TPMA_NV(TPMA_NV.COUNTER, TPMA_NV.AUTHWRITE, TPMA_NV.AUTHREAD,
                                TPMA_NV.NO_DA), new byte[0], 8));
                pub = t.NV_ReadPublic(nv);
            }
            if (!pub.nvPublic.attributes.hasAttr(TPMA_NV.COUNTER)) {
                throw new TpmException("counter", String.format("NV index 0x%08x exists but is not a counter", nvIndex));
            }
            if (!pub.nvPublic.attributes.hasAttr(TPMA_NV.WRITTEN)) {
                t.NV_Increment(nv, nv);
                pub = t.NV_ReadPublic(nv);
            }
            return new NvCounter(nvIndex, pub.nvName, readCounter(t, nv));
        });
    }

    @Override
    public NvCounter incrementCounter(int nvIndex) {
        return call("incrementCounter", t -> {
            TPM_HANDLE nv = nvHandle(nvIndex);
            t.NV_Increment(nv, nv);
            return new NvCounter(nvIndex, t.NV_ReadPublic(nv).nvName, readCounter(t, nv));
        });
    }

    private static TPM_HANDLE nvHandle(int nvIndex) {
        if ((nvIndex >>> 24) != 0x01) {
            throw new IllegalArgumentException(String.format("0x%08x is not an NV index (0x01xxxxxx)", nvIndex));
        }
        return TPM_HANDLE.NV(nvIndex & 0x00ffffff);
    }

    private static long readCounter(tss.Tpm t, TPM_HANDLE nv) {
        return ByteBuffer.wrap(t.NV_Read(nv, nv, 8, 0)).getLong();
    }

    @Override
    public byte[] nameOf(PublicKey key) {
        return Templates.external(key).getName();
    }
}
