package io.ferry.attestation.verifier;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.Signature;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import io.ferry.api.attestation.ComponentKind;
import io.ferry.api.attestation.Evidence;
import io.ferry.api.attestation.MeasurementEntry;
import io.ferry.api.tpm.Pcr;

/** Builds quotes as a TPM would, signed by a software key: evidence without a TPM. */
final class Quotes {

    static final int PCR = 23;
    static final byte[] AK_NAME = HexFormat.of().parseHex("000b" + "11".repeat(32));

    private Quotes() {
    }

    static KeyPair ec() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(256);
            return g.generateKeyPair();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static KeyPair rsa() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
            g.initialize(2048);
            return g.generateKeyPair();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] nonce(int seed) {
        byte[] n = new byte[32];
        java.util.Arrays.fill(n, (byte) seed);
        return n;
    }

    static String sha(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes()));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static MeasurementEntry entry(long seq, String component, String version, String content) {
        return new MeasurementEntry(seq, PCR, component.startsWith("io.") ? ComponentKind.BUNDLE : ComponentKind.BINARY,
                component, version, sha(content), Instant.parse("2025-01-01T00:00:00Z"));
    }

    static byte[] replay(List<MeasurementEntry> log) {
        byte[] v = new byte[32];
        for (MeasurementEntry e : log) {
            v = hash(v, e.eventDigest());
        }
        return v;
    }

    static byte[] hash(byte[]... parts) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (byte[] p : parts) {
                md.update(p);
            }
            return md.digest();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A marshalled TPMS_ATTEST of a quote of SHA-256 PCRs. */
    static byte[] attest(long magic, int type, byte[] signer, byte[] extra, List<Integer> pcrs, byte[] pcrDigest) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer b = ByteBuffer.allocate(1024);
        b.putInt((int) magic).putShort((short) type);
        b.putShort((short) signer.length).put(signer);
        b.putShort((short) extra.length).put(extra);
        b.putLong(123456L).putInt(7).putInt(1).put((byte) 1); // clock, resetCount, restartCount, safe
        b.putLong(0x2019_0109_0000_0000L);
        byte[] select = new byte[3];
        pcrs.forEach(i -> select[i / 8] |= (byte) (1 << (i % 8)));
        b.putInt(1).putShort((short) 0x000b).put((byte) 3).put(select);
        b.putShort((short) pcrDigest.length).put(pcrDigest);
        out.write(b.array(), 0, b.position());
        return out.toByteArray();
    }

    /** A TPMT_SIGNATURE of the attest bytes by a software key, as a TPM marshals it. */
    static byte[] sign(KeyPair key, byte[] attest) {
        try {
            boolean ec = key.getPrivate().getAlgorithm().equals("EC");
            Signature s = Signature.getInstance(ec ? "SHA256withECDSA" : "SHA256withRSA");
            s.initSign(key.getPrivate());
            s.update(attest);
            byte[] sig = s.sign();
            ByteBuffer b = ByteBuffer.allocate(1024);
            if (ec) {
                BigInteger[] rs = decodeDer(sig);
                b.putShort((short) 0x0018).putShort((short) 0x000b);
                b.putShort((short) 32).put(unsigned(rs[0])).putShort((short) 32).put(unsigned(rs[1]));
            } else {
                b.putShort((short) 0x0014).putShort((short) 0x000b).putShort((short) sig.length).put(sig);
            }
            return java.util.Arrays.copyOf(b.array(), b.position());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] unsigned(BigInteger v) {
        byte[] b = v.toByteArray();
        byte[] out = new byte[32];
        int n = Math.min(b.length, 32);
        System.arraycopy(b, b.length - n, out, 32 - n, n);
        return out;
    }

    static BigInteger[] decodeDer(byte[] der) {
        int pos = 2;
        if ((der[1] & 0xff) == 0x81) {
            pos = 3;
        }
        int rl = der[pos + 1];
        BigInteger r = new BigInteger(1, java.util.Arrays.copyOfRange(der, pos + 2, pos + 2 + rl));
        pos = pos + 2 + rl;
        int sl = der[pos + 1];
        BigInteger s = new BigInteger(1, java.util.Arrays.copyOfRange(der, pos + 2, pos + 2 + sl));
        return new BigInteger[] { r, s };
    }

    /** Evidence builder: an honest agent by default; each setter is one way to lie. */
    static final class Builder {
        KeyPair key;
        byte[] nonce = nonce(1);
        byte[] binding = new byte[0];
        List<MeasurementEntry> log = new ArrayList<>();
        List<MeasurementEntry> sentLog;
        List<Pcr> pcrs;
        List<Integer> quotedPcrs;
        byte[] quotedDigest;
        long magic = TpmsAttest.TPM_GENERATED;
        int type = TpmsAttest.TPM_ST_ATTEST_QUOTE;
        byte[] extra;
        KeyPair signer;

        Builder(KeyPair key) {
            this.key = key;
        }

        Evidence build() {
            List<Pcr> values = pcrs != null ? pcrs : List.of(new Pcr(PCR, replay(log)));
            List<Integer> sel = quotedPcrs != null ? quotedPcrs : values.stream().map(Pcr::index).toList();
            byte[] digest = quotedDigest != null ? quotedDigest : Verifier.pcrDigest(values);
            byte[] qd = extra != null ? extra : Evidence.qualifyingData(nonce, binding);
            byte[] a = attest(magic, type, AK_NAME, qd, sel, digest);
            byte[] sig = sign(signer != null ? signer : key, a);
            return new Evidence(nonce, binding, a, sig, values, sentLog != null ? sentLog : log,
                    key.getPublic().getEncoded(), AK_NAME);
        }
    }
}
