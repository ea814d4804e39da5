package io.ferry.itcenter.attestation;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

import io.ferry.api.tpm.Pcr;

/**
 * The PCR values an agent's attestation proved (column {@code attestation.pcrs}, Flyway V10): a genuine
 * verdict's quote was signed by the agent's enrolled attestation key over exactly these values and a fresh
 * nonce. Seal approvals over REST sign only values its latest verdict proved.
 */
public final class ProvedPcrs {

    /**
     * An agent's latest verdict, as recorded.
     *
     * @param seq    the attestation record's number
     * @param at     when it was judged
     * @param level  the security level it gave
     * @param pcrs   the PCR values it proved; empty when it was not genuine
     */
    public record Latest(long seq, Instant at, String level, boolean genuine, List<Pcr> pcrs) {

        public Latest {
            pcrs = List.copyOf(pcrs);
        }
    }

    private ProvedPcrs() {
    }

    /** {@code index=hex,...} in the order given. */
    public static String format(List<Pcr> pcrs) {
        return pcrs.stream().map(p -> p.index() + "=" + p.hex()).collect(Collectors.joining(","));
    }

    /** Reads {@link #format}; null or blank is no value. */
    public static List<Pcr> parse(String text) {
        List<Pcr> out = new ArrayList<>();
        if (text == null || text.isBlank()) {
            return out;
        }
        for (String pair : text.split(",")) {
            int eq = pair.indexOf('=');
            out.add(new Pcr(Integer.parseInt(pair.substring(0, eq).strip()), HexFormat.of().parseHex(pair.substring(eq + 1).strip())));
        }
        return out;
    }

    /** The agent's latest verdict (whoever asked for it), inside the caller's transaction. */
    public static Optional<Latest> latest(Connection c, String agentId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT seq, at, level, genuine, pcrs FROM attestation "
                + "WHERE agent_id = ? ORDER BY seq DESC FETCH FIRST 1 ROWS ONLY")) {
            ps.setString(1, agentId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                boolean genuine = rs.getBoolean(4);
                return Optional.of(new Latest(rs.getLong(1), rs.getObject(2, OffsetDateTime.class).toInstant(),
                        rs.getString(3), genuine, genuine ? parse(rs.getString(5)) : List.of()));
            }
        }
    }
}
