package io.ferry.api.seal;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import io.ferry.api.tpm.Pcr;

/**
 * What the IT center needs to approve a platform state for one agent's seal storage.
 * <p>
 * Text form ({@code seal:request} prints it, {@link #encode()} writes it, {@link #parse} reads it; the
 * IT center's console and its REST API read it with the same code):
 * <pre>
 * pcr.23: 9f86d0...
 * counter.index: 0x01800100
 * counter.name: 000b...
 * minimum.version: 7
 * </pre>
 *
 * @param pcrs the PCRs of the policy with their current values
 * @param counterIndex the TPM NV counter holding the newest approval version seen
 * @param counterName that counter's TPM name (bound into every approval)
 * @param minimumVersion the lowest version a new approval may carry (the counter's value)
 */
public record ApprovalRequest(List<Pcr> pcrs, int counterIndex, byte[] counterName, long minimumVersion) {

    public ApprovalRequest {
        pcrs = List.copyOf(pcrs);
        counterName = counterName.clone();
    }

    @Override
    public byte[] counterName() {
        return counterName.clone();
    }

    /** The bytes the approval key signs for these PCR values at that version. */
    public byte[] signedMessage(long version) {
        return Approvals.signedMessage(pcrs, counterName, version);
    }

    /** The text form, one {@code key: value} line each. */
    public String encode() {
        StringBuilder sb = new StringBuilder();
        for (Pcr p : pcrs) {
            sb.append("pcr.").append(p.index()).append(": ").append(p.hex()).append('\n');
        }
        sb.append(String.format("counter.index: 0x%08x", counterIndex)).append('\n');
        sb.append("counter.name: ").append(HexFormat.of().formatHex(counterName)).append('\n');
        return sb.append("minimum.version: ").append(minimumVersion).append('\n').toString();
    }

    /**
     * Reads the text form: {@code pcr.N}, {@code counter.index} (hex, {@code 0x} optional),
     * {@code counter.name} (hex) and {@code minimum.version} lines; blank lines, {@code #} comments and
     * other lines without a colon are skipped.
     *
     * @throws IllegalArgumentException naming the field that is missing or not valid
     */
    public static ApprovalRequest parse(String text) {
        List<Pcr> pcrs = new ArrayList<>();
        Integer index = null;
        byte[] name = null;
        Long minimum = null;
        for (String raw : text.split("\n")) {
            String line = raw.strip();
            int colon = line.indexOf(':');
            if (line.isEmpty() || line.startsWith("#") || colon < 0) {
                continue;
            }
            String key = line.substring(0, colon).strip();
            String value = line.substring(colon + 1).strip();
            try {
                switch (key) {
                    case "counter.index" -> index = Integer.parseUnsignedInt(value.replaceFirst("^0x", ""), 16);
                    case "counter.name" -> name = HexFormat.of().parseHex(value);
                    case "minimum.version" -> minimum = Long.parseLong(value);
                    default -> {
                        if (key.startsWith("pcr.")) {
                            pcrs.add(new Pcr(Integer.parseInt(key.substring(4)), HexFormat.of().parseHex(value)));
                        }
                    }
                }
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("the request's " + key + " is not valid: " + value, e);
            }
        }
        if (pcrs.isEmpty() || index == null || name == null || minimum == null) {
            throw new IllegalArgumentException("not a seal:request output: it needs pcr.N, counter.index, "
                    + "counter.name and minimum.version lines");
        }
        if (minimum < 0) {
            throw new IllegalArgumentException("the request's minimum.version is negative: " + minimum);
        }
        return new ApprovalRequest(pcrs, index, name, minimum);
    }
}
