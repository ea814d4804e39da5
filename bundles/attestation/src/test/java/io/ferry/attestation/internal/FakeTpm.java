package io.ferry.attestation.internal;

import java.security.MessageDigest;
import java.security.PublicKey;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

import io.ferry.api.tpm.Attestation;
import io.ferry.api.tpm.KeyBlob;
import io.ferry.api.tpm.NvCounter;
import io.ferry.api.tpm.Pcr;
import io.ferry.api.tpm.PolicyStep;
import io.ferry.api.tpm.Quote;
import io.ferry.api.tpm.Tpm;
import io.ferry.api.tpm.TpmInfo;
import io.ferry.api.tpm.TpmPublic;

/** PCRs only, in memory: for the tests of the log and the bundle listener (the quote tests use swtpm). */
final class FakeTpm implements Tpm {

    final byte[][] pcrs = new byte[24][32];
    int extends_;

    @Override
    public synchronized List<Pcr> readPcrs(int... indexes) {
        return Arrays.stream(indexes).mapToObj(i -> new Pcr(i, pcrs[i])).toList();
    }

    @Override
    public synchronized Pcr extendPcr(int index, byte[] d) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(pcrs[index]);
            md.update(d);
            pcrs[index] = md.digest();
            extends_++;
            return new Pcr(index, pcrs[index]);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Override public void release() { }
    @Override public TpmInfo info() { return new TpmInfo("fake", "FAKE", "0", true); }
    @Override public TpmPublic storageRootKey() { throw new UnsupportedOperationException(); }
    @Override public TpmPublic attestationKey() { throw new UnsupportedOperationException(); }
    @Override public TpmPublic endorsementKey() { throw new UnsupportedOperationException(); }
    @Override public Optional<byte[]> endorsementCertificate() { return Optional.empty(); }
    @Override public KeyBlob createSigningKey() { throw new UnsupportedOperationException(); }
    @Override public TpmPublic publicOf(KeyBlob key) { throw new UnsupportedOperationException(); }
    @Override public byte[] sign(KeyBlob key, byte[] d) { throw new UnsupportedOperationException(); }
    @Override public KeyBlob seal(byte[] s, byte[] p) { throw new UnsupportedOperationException(); }
    @Override public byte[] unseal(KeyBlob s, List<PolicyStep> p) { throw new UnsupportedOperationException(); }
    @Override public Quote quote(byte[] q, int... p) { throw new UnsupportedOperationException(); }
    @Override public Attestation certify(KeyBlob k, byte[] q) { throw new UnsupportedOperationException(); }
    @Override public byte[] activateCredential(byte[] a, byte[] b, byte[] c) { throw new UnsupportedOperationException(); }
    @Override public NvCounter counter(int i) { throw new UnsupportedOperationException(); }
    @Override public NvCounter incrementCounter(int i) { throw new UnsupportedOperationException(); }
    @Override public byte[] nameOf(PublicKey key) { throw new UnsupportedOperationException(); }
}
