package io.ferry.attestation.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.ferry.api.attestation.AttestationResult;
import io.ferry.api.attestation.Evidence;
import io.ferry.api.attestation.Reason;
import io.ferry.api.attestation.Remediation;
import io.ferry.api.attestation.Verdict;
import io.ferry.attestation.verifier.SoftwareAttester;

class AttestationJsonTest {

    final SoftwareAttester agent = new SoftwareAttester();

    Evidence evidence() {
        agent.measure("qemu-system-x86_64", "7.2.15", "qemu");
        agent.measure("io.ferry.policy", "0.1.0.SNAPSHOT", "policy");
        byte[] nonce = new byte[32];
        nonce[0] = 7;
        return agent.attest(nonce, new byte[] { 1, 2, 3 });
    }

    @Test
    void evidenceRoundTripsExactly() {
        Evidence e = evidence();
        String json = AttestationJson.write(AttestationJson.toJson(e));
        Evidence back = AttestationJson.read(json, AttestationJson::evidence);
        assertThat(back.nonce()).isEqualTo(e.nonce());
        assertThat(back.binding()).isEqualTo(e.binding());
        assertThat(back.attest()).isEqualTo(e.attest());
        assertThat(back.signature()).isEqualTo(e.signature());
        assertThat(back.pcrs()).isEqualTo(e.pcrs());
        assertThat(back.log()).isEqualTo(e.log());
        assertThat(back.akPublic()).isEqualTo(e.akPublic());
        assertThat(back.akName()).isEqualTo(e.akName());
        assertThat(AttestationJson.write(AttestationJson.toJson(back))).isEqualTo(json);
    }

    @Test
    void resultRoundTrips() {
        Verdict v = new Verdict("measured", true, List.of(new Reason(Reason.Code.UNKNOWN_COMPONENT, "io.ferry.x",
                "unknown component io.ferry.x version 1")), List.of(), List.of("io.ferry.x 1"));
        AttestationResult r = new AttestationResult("a1", Instant.parse("2026-01-01T00:00:00Z"), v, "trusted", false,
                new Remediation(List.of(new Remediation.FeatureUpdate("io.ferry.x", "ferry-x", "1.1.0", "ferry-x/1.1.0")),
                        List.of("update qemu"), "mvn:io.ferry/ferry-features/1/xml/features"));
        String json = AttestationJson.write(AttestationJson.toJson(r));
        assertThat(AttestationJson.read(json, AttestationJson::result)).isEqualTo(r);
    }

    @Test
    void refusesUnknownDuplicateMissingAndMistypedFieldsNamingThem() {
        String json = AttestationJson.write(AttestationJson.toJson(evidence()));
        assertThatThrownBy(() -> AttestationJson.read(json.replace("{\"nonce\"", "{\"extra\":1,\"nonce\""),
                AttestationJson::evidence)).isInstanceOf(WireFormatException.class).hasMessageContaining("extra: unknown field");
        assertThatThrownBy(() -> AttestationJson.read(json.replace("{\"nonce\"", "{\"akName\":\"\",\"nonce\""),
                AttestationJson::evidence)).isInstanceOf(WireFormatException.class).hasMessageContaining("Duplicate field");
        assertThatThrownBy(() -> AttestationJson.read(json.replace("\"seq\":2,", ""), AttestationJson::evidence))
                .isInstanceOf(WireFormatException.class).hasMessageContaining("log[1].seq is missing");
        assertThatThrownBy(() -> AttestationJson.read(json.replace("\"seq\":2", "\"seq\":\"2\""), AttestationJson::evidence))
                .hasMessageContaining("log[1].seq must be a whole number");
        assertThatThrownBy(() -> AttestationJson.read(json.replace("\"kind\":\"bundle\"", "\"kind\":\"rootkit\""),
                AttestationJson::evidence)).hasMessageContaining("log[1]: unknown component kind 'rootkit'");
        assertThatThrownBy(() -> AttestationJson.read(json + " {}", AttestationJson::evidence))
                .isInstanceOf(WireFormatException.class);
        assertThatThrownBy(() -> AttestationJson.read(json.replace("\"nonce\":\"", "\"nonce\":\"!!"),
                AttestationJson::evidence)).hasMessageContaining("nonce must be base64");
        assertThatThrownBy(() -> AttestationJson.read("[1]", AttestationJson::evidence)).hasMessageContaining("not a JSON object");
        assertThatThrownBy(() -> AttestationJson.read("{\"nonce\":", AttestationJson::evidence))
                .isInstanceOf(WireFormatException.class).hasMessageContaining("malformed JSON");
    }

    @Test
    void valueChecksApplyOnTop() {
        String json = AttestationJson.write(AttestationJson.toJson(evidence()));
        String shortNonce = json.replaceFirst("\"nonce\":\"[^\"]*\"", "\"nonce\":\"AAAA\"");
        assertThatThrownBy(() -> AttestationJson.read(shortNonce, AttestationJson::evidence))
                .isInstanceOf(WireFormatException.class).hasMessageContaining("the nonce must have 32 bytes");
    }

    @Test
    void optionalFieldsMayBeAbsentOrNull() {
        NonceRequest self = AttestationJson.read("{}", AttestationJson::nonceRequest);
        assertThat(self.agent()).isNull();
        assertThat(self.binding()).isEmpty();
        NonceRequest nulls = AttestationJson.read("{\"agent\":null,\"binding\":null}", AttestationJson::nonceRequest);
        assertThat(nulls.agent()).isNull();
        assertThat(nulls.binding()).isEmpty();
        NonceRequest peer = AttestationJson.read(AttestationJson.write(AttestationJson.toJson(
                new NonceRequest("desktop", new byte[] { 9 }))), AttestationJson::nonceRequest);
        assertThat(peer.agent()).isEqualTo("desktop");
        assertThat(peer.binding()).containsExactly(9);
        assertThatThrownBy(() -> AttestationJson.read("{\"binding\":\"" + java.util.Base64.getEncoder()
                .encodeToString(new byte[257]) + "\"}", AttestationJson::nonceRequest)).hasMessageContaining("at most 256");
    }

    @Test
    void refusesOversizedDocumentsAndLogs() {
        String huge = "{\"x\":\"" + "a".repeat(AttestationJson.MAX_DOCUMENT_CHARS) + "\"}";
        assertThatThrownBy(() -> AttestationJson.parse(huge)).isInstanceOf(WireFormatException.class)
                .hasMessageContaining("more than");
        StringBuilder log = new StringBuilder("[");
        for (int i = 0; i <= AttestationJson.MAX_LOG_EVENTS; i++) {
            log.append(i == 0 ? "" : ",").append("{}");
        }
        String json = AttestationJson.write(AttestationJson.toJson(evidence()));
        String many = json.replaceFirst("\"log\":\\[.*?\\],\"akPublic\"", "\"log\":" + log + "],\"akPublic\"");
        assertThatThrownBy(() -> AttestationJson.read(many, AttestationJson::evidence))
                .hasMessageContaining("log has 4097 elements, more than 4096");
        String deep = "{\"a\":" + "[".repeat(20) + "]".repeat(20) + "}";
        assertThatThrownBy(() -> AttestationJson.parse(deep)).isInstanceOf(WireFormatException.class);
    }

    @Test
    void framesAreStrict() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PeerFrames.write(out, PeerFrames.Type.REQUEST, new byte[32]);
        PeerFrames.Frame f = PeerFrames.read(new ByteArrayInputStream(out.toByteArray()), PeerFrames.Type.REQUEST);
        assertThat(f.payload()).hasSize(32);

        assertThatThrownBy(() -> PeerFrames.read(new ByteArrayInputStream(out.toByteArray()), PeerFrames.Type.EVIDENCE))
                .isInstanceOf(WireFormatException.class).hasMessageContaining("unexpected frame type 1");
        assertThatThrownBy(() -> PeerFrames.read(new ByteArrayInputStream("GET / HTTP/1.1\r\n".getBytes()),
                PeerFrames.Type.REQUEST)).hasMessageContaining("not a peer-attestation frame");
        byte[] truncated = java.util.Arrays.copyOf(out.toByteArray(), 20);
        assertThatThrownBy(() -> PeerFrames.read(new ByteArrayInputStream(truncated), PeerFrames.Type.REQUEST))
                .hasMessageContaining("ended inside a REQUEST frame");
        byte[] oversize = ByteBuffer.allocate(9).put("FPA1".getBytes()).put((byte) 2).putInt(Integer.MAX_VALUE).array();
        assertThatThrownBy(() -> PeerFrames.read(new ByteArrayInputStream(oversize), PeerFrames.Type.EVIDENCE))
                .hasMessageContaining("EVIDENCE frame of 2147483647 bytes (at most 1048576)");
        byte[] wrongNonce = ByteBuffer.allocate(9).put("FPA1".getBytes()).put((byte) 1).putInt(31).array();
        assertThatThrownBy(() -> PeerFrames.read(new ByteArrayInputStream(wrongNonce), PeerFrames.Type.REQUEST))
                .hasMessageContaining("REQUEST frame of 31 bytes");
        assertThatThrownBy(() -> PeerFrames.read(new ByteArrayInputStream(new byte[0]), PeerFrames.Type.REQUEST))
                .isInstanceOf(EOFException.class);
    }
}
