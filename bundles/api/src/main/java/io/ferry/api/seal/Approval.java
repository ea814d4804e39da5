package io.ferry.api.seal;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;

import io.ferry.api.tpm.Pcr;

/**
 * The IT center's approval of PCR values for seal storage: a signature by its approval key over
 * {@link Approvals#signedMessage} of these PCR values and this version ({@code SHA256withECDSA}
 * for an EC P-256 key, {@code SHA256withRSA} for RSA).
 * <p>
 * Text form (what {@link #encode()} writes and {@link #parse} reads):
 * <pre>
 * ferry-approval: 1
 * version: 7
 * pcr.23: 9f86d0...
 * signature: MEUCIQ...
 * </pre>
 */
public record Approval(long version, List<Pcr> pcrs, byte[] signature) {

    public Approval {
        if (version < 0) {
            throw new IllegalArgumentException("an approval version is not negative: " + version);
        }
        if (pcrs.isEmpty()) {
            throw new IllegalArgumentException("an approval names at least one PCR");
        }
        pcrs = List.copyOf(pcrs);
        signature = signature.clone();
    }

    @Override
    public byte[] signature() {
        return signature.clone();
    }

    public String encode() {
        StringBuilder sb = new StringBuilder("ferry-approval: 1\nversion: ").append(version).append('\n');
        for (Pcr p : pcrs) {
            sb.append("pcr.").append(p.index()).append(": ").append(p.hex()).append('\n');
        }
        return sb.append("signature: ").append(Base64.getEncoder().encodeToString(signature)).append('\n').toString();
    }

    public byte[] toBytes() {
        return encode().getBytes(StandardCharsets.UTF_8);
    }

    /** @throws IllegalArgumentException naming what is wrong with the text */
    public static Approval parse(String text) {
        Long version = null;
        byte[] signature = null;
        boolean header = false;
        List<Pcr> pcrs = new ArrayList<>();
        for (String line : text.split("\n")) {
            line = line.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int colon = line.indexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("not an approval line: " + line);
            }
            String key = line.substring(0, colon).strip();
            String value = line.substring(colon + 1).strip();
            try {
                if (key.equals("ferry-approval")) {
                    if (!value.equals("1")) {
                        throw new IllegalArgumentException("unknown approval format " + value);
                    }
                    header = true;
                } else if (key.equals("version")) {
                    version = Long.parseLong(value);
                } else if (key.startsWith("pcr.")) {
                    pcrs.add(new Pcr(Integer.parseInt(key.substring(4)), HexFormat.of().parseHex(value)));
                } else if (key.equals("signature")) {
                    signature = Base64.getDecoder().decode(value);
                } else {
                    throw new IllegalArgumentException("unknown approval field " + key);
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad value of " + key + ": " + value, e);
            }
        }
        if (!header || version == null || signature == null || pcrs.isEmpty()) {
            throw new IllegalArgumentException("an approval needs ferry-approval, version, pcr.N and signature");
        }
        return new Approval(version, pcrs, signature);
    }
}
