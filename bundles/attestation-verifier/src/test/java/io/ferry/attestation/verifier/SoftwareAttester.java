package io.ferry.attestation.verifier;

import java.security.KeyPair;
import java.util.ArrayList;
import java.util.List;

import io.ferry.api.attestation.Attester;
import io.ferry.api.attestation.Evidence;
import io.ferry.api.attestation.MeasurementEntry;
import io.ferry.api.tpm.Pcr;

/**
 * An agent's attester without a TPM, for the tests of other bundles (in this bundle's test-jar): a
 * software attestation key signs quotes as a TPM marshals them, over a measurement log kept in memory.
 * Honest by default; {@link #signer} and {@link #sentLog} are ways to lie.
 */
public final class SoftwareAttester implements Attester {

    public static final int PCR = Quotes.PCR;

    private final KeyPair ak;
    private final List<MeasurementEntry> log = new ArrayList<>();
    /** When set, quotes are signed by this key instead of the AK (a forged or foreign quote). */
    public volatile KeyPair signer;
    /** When set, this log is sent instead of the one that was extended (a log that does not replay). */
    public volatile List<MeasurementEntry> sentLog;
    /** How many quotes were made. */
    public volatile int quotes;

    public SoftwareAttester() {
        this(Quotes.ec());
    }

    public SoftwareAttester(KeyPair ak) {
        this.ak = ak;
    }

    /** The attestation key an IT center enrols (SubjectPublicKeyInfo DER). */
    public byte[] akPublic() {
        return ak.getPublic().getEncoded();
    }

    public KeyPair keyPair() {
        return ak;
    }

    /** Appends a measurement of a component whose content is {@code content} (its SHA-256 is the digest). */
    public synchronized MeasurementEntry measure(String component, String version, String content) {
        MeasurementEntry e = Quotes.entry(log.size() + 1, component, version, content);
        log.add(e);
        return e;
    }

    /** The SHA-256 hex a measurement of {@code content} has: what a reference value must name. */
    public static String digestOf(String content) {
        return Quotes.sha(content);
    }

    public synchronized List<MeasurementEntry> log() {
        return List.copyOf(log);
    }

    /** A fresh software key pair (EC P-256). */
    public static KeyPair newKey() {
        return Quotes.ec();
    }

    @Override
    public synchronized Evidence attest(byte[] nonce, byte[] binding) {
        quotes++;
        List<Pcr> values = List.of(new Pcr(PCR, Quotes.replay(log)));
        byte[] a = Quotes.attest(TpmsAttest.TPM_GENERATED, TpmsAttest.TPM_ST_ATTEST_QUOTE, Quotes.AK_NAME,
                Evidence.qualifyingData(nonce, binding), List.of(PCR), Verifier.pcrDigest(values));
        byte[] sig = Quotes.sign(signer != null ? signer : ak, a);
        return new Evidence(nonce, binding, a, sig, values, sentLog != null ? sentLog : log, ak.getPublic().getEncoded(),
                Quotes.AK_NAME);
    }

    @Override
    public int measurementPcr() {
        return PCR;
    }
}
