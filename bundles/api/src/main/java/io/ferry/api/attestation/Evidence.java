package io.ferry.api.attestation;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import io.ferry.api.tpm.Pcr;

/**
 * What an agent sends for a nonce: a TPM2_Quote over {@link #qualifyingData(byte[], byte[])} of the
 * nonce and a binding value, the quoted PCR values and the measurement log since the TPM's last reset.
 * Nothing in it is trusted by itself: a verifier checks it against the enrolled attestation key.
 *
 * @param nonce the verifier's nonce, {@value #NONCE_BYTES} bytes
 * @param binding what the caller bound the quote to (e.g. a hash of a channel's identity), 0 to
 *        {@value #MAX_BINDING_BYTES} bytes; empty when unbound
 * @param attest the marshalled TPMS_ATTEST that the attestation key signed
 * @param signature the marshalled TPMT_SIGNATURE over it, as the TPM returned it (tpm2_quote's format)
 * @param pcrs the quoted PCRs (SHA-256 bank) with their values, in increasing index order
 * @param log the measurement events since the TPM's last reset, oldest first
 * @param akPublic the attestation key the agent claims to have used (X.509 SubjectPublicKeyInfo, DER);
 *        informational: a verifier uses the key it enrolled
 * @param akName the attestation key's TPM name (nameAlg || digest of its public area)
 */
public record Evidence(byte[] nonce, byte[] binding, byte[] attest, byte[] signature, List<Pcr> pcrs,
        List<MeasurementEntry> log, byte[] akPublic, byte[] akName) {

    public static final int NONCE_BYTES = 32;
    public static final int MAX_BINDING_BYTES = 256;
    /** Larger than any TPMS_ATTEST of a quote (TPM2B_ATTEST is bounded by the TPM's buffer size). */
    public static final int MAX_ATTEST_BYTES = 1024;
    public static final int MAX_SIGNATURE_BYTES = 1024;
    /** The most events evidence may carry; a real log since boot has tens. */
    public static final int MAX_LOG_ENTRIES = 100_000;

    public Evidence {
        nonce = Checks.bytes("the nonce", nonce, NONCE_BYTES, NONCE_BYTES);
        binding = Checks.bytes("the binding", binding, 0, MAX_BINDING_BYTES);
        attest = Checks.bytes("the quote (TPMS_ATTEST)", attest, 1, MAX_ATTEST_BYTES);
        signature = Checks.bytes("the quote's signature", signature, 1, MAX_SIGNATURE_BYTES);
        akPublic = Checks.bytes("the attestation key", akPublic, 1, 2048);
        akName = Checks.bytes("the attestation key's name", akName, 0, 68);
        pcrs = List.copyOf(pcrs);
        if (pcrs.isEmpty() || pcrs.size() > 24) {
            throw new IllegalArgumentException("evidence must quote 1 to 24 PCRs, not " + pcrs.size());
        }
        int last = -1;
        for (Pcr p : pcrs) {
            Checks.pcr("a quoted PCR", p.index());
            if (p.index() <= last) {
                throw new IllegalArgumentException("the quoted PCRs must be in increasing index order, each once: "
                        + pcrs.stream().map(Pcr::index).toList());
            }
            last = p.index();
            if (p.value().length != 32) {
                throw new IllegalArgumentException("PCR " + p.index() + " must have a 32-byte SHA-256 value, not "
                        + p.value().length);
            }
        }
        log = List.copyOf(log);
        if (log.size() > MAX_LOG_ENTRIES) {
            throw new IllegalArgumentException("the measurement log has " + log.size() + " events, more than "
                    + MAX_LOG_ENTRIES);
        }
    }

    @Override
    public byte[] nonce() {
        return nonce.clone();
    }

    @Override
    public byte[] binding() {
        return binding.clone();
    }

    @Override
    public byte[] attest() {
        return attest.clone();
    }

    @Override
    public byte[] signature() {
        return signature.clone();
    }

    @Override
    public byte[] akPublic() {
        return akPublic.clone();
    }

    @Override
    public byte[] akName() {
        return akName.clone();
    }

    /** The quoted value of a PCR, or null when that PCR was not quoted. */
    public Pcr pcr(int index) {
        return pcrs.stream().filter(p -> p.index() == index).findFirst().orElse(null);
    }

    /**
     * The quote's qualifying data (TPMS_ATTEST.extraData): SHA-256(nonce || binding). The nonce has a
     * fixed length, so the concatenation is unambiguous.
     */
    public static byte[] qualifyingData(byte[] nonce, byte[] binding) {
        Checks.bytes("the nonce", nonce, NONCE_BYTES, NONCE_BYTES);
        Checks.bytes("the binding", binding, 0, MAX_BINDING_BYTES);
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(nonce);
            md.update(binding);
            return md.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The distinct components of the log, in order of first appearance. */
    public List<String> components() {
        Set<String> seen = new HashSet<>();
        List<String> out = new ArrayList<>();
        log.forEach(e -> {
            if (seen.add(e.component())) {
                out.add(e.component());
            }
        });
        return out;
    }
}
