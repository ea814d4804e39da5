package io.ferry.shell.attestation;

import java.security.SecureRandom;
import java.util.HexFormat;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.ferry.api.attestation.Evidence;
import io.ferry.api.tpm.Pcr;

@Service
@Command(scope = "attestation", name = "quote",
        description = "Makes fresh evidence (a TPM quote of the measurement PCR with the log) for a nonce and shows a summary.")
public class QuoteCommand extends AttestationCommand {

    @Option(name = "-n", aliases = "--nonce", description = "The nonce, 64 hex digits (default: a random one)")
    String nonceHex;

    @Option(name = "-b", aliases = "--binding", description = "A value to bind the quote to, in hex (default: none)")
    String bindingHex;

    @Override
    void run() {
        HexFormat hex = HexFormat.of();
        byte[] nonce;
        if (nonceHex == null) {
            nonce = new byte[Evidence.NONCE_BYTES];
            new SecureRandom().nextBytes(nonce);
        } else {
            nonce = parse(nonceHex, "--nonce");
        }
        byte[] binding = bindingHex == null ? new byte[0] : parse(bindingHex, "--binding");
        Evidence e = attester().attest(nonce, binding);
        System.out.printf("Nonce:            %s%n", hex.formatHex(e.nonce()));
        System.out.printf("Binding:          %s%n", e.binding().length == 0 ? "none" : hex.formatHex(e.binding()));
        System.out.printf("Qualifying data:  %s (SHA-256 of nonce || binding)%n",
                hex.formatHex(Evidence.qualifyingData(e.nonce(), e.binding())));
        System.out.printf("AK name:          %s%n", hex.formatHex(e.akName()));
        System.out.printf("Quote:            %d bytes TPMS_ATTEST, %d bytes TPMT_SIGNATURE%n", e.attest().length,
                e.signature().length);
        for (Pcr p : e.pcrs()) {
            System.out.printf("PCR %-2d            %s%n", p.index(), p.hex());
        }
        System.out.printf("Log:              %d events (%d components)%n", e.log().size(), e.components().size());
        System.out.printf("Attest (hex):     %s%n", hex.formatHex(e.attest()));
        System.out.printf("Signature (hex):  %s%n", hex.formatHex(e.signature()));
    }

    private static byte[] parse(String s, String option) {
        try {
            return HexFormat.of().parseHex(s.trim().toLowerCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException ex) {
            throw new IllegalArgumentException(option + " must be hex digits: " + ex.getMessage());
        }
    }
}
