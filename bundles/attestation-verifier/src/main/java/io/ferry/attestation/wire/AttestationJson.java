package io.ferry.attestation.wire;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.ferry.api.attestation.AttestationRecord;
import io.ferry.api.attestation.AttestationResult;
import io.ferry.api.attestation.ComponentKind;
import io.ferry.api.attestation.Evidence;
import io.ferry.api.attestation.MeasurementEntry;
import io.ferry.api.attestation.Reason;
import io.ferry.api.attestation.Remediation;
import io.ferry.api.attestation.Verdict;
import io.ferry.api.tpm.Pcr;

/**
 * Reads and writes attestation messages as JSON (Jackson's tree model). Bytes are base64 (RFC 4648, with
 * padding), digests and PCR values lower-case hex, times ISO-8601. Reading is strict: a document larger
 * than {@value #MAX_DOCUMENT_CHARS} characters, nesting deeper than 8, duplicate or unknown fields, missing
 * fields, wrong types, a log of more than {@value #MAX_LOG_EVENTS} events and trailing content are refused
 * with a {@link WireFormatException} naming the field; the value types' own checks (sizes, PCR order, names)
 * apply on top.
 */
public final class AttestationJson {

    /** The largest document read: evidence with {@value #MAX_LOG_EVENTS} events fits. */
    public static final int MAX_DOCUMENT_CHARS = 2 * 1024 * 1024;
    /** The most events evidence may carry on the wire (a real log since boot has tens). */
    public static final int MAX_LOG_EVENTS = 4096;
    private static final int MAX_LIST = 10_000;

    private static final HexFormat HEX = HexFormat.of();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final ObjectMapper MAPPER = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxDocumentLength(MAX_DOCUMENT_CHARS)
                    .maxNestingDepth(8).maxStringLength(MAX_DOCUMENT_CHARS).maxNumberLength(20).build())
            .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build());

    private AttestationJson() {
    }

    // ---- documents ---------------------------------------------------------------------------------

    /** Parses one JSON object, nothing after it. */
    public static JsonNode parse(String json) {
        if (json == null || json.isEmpty()) {
            throw new WireFormatException("an empty document");
        }
        if (json.length() > MAX_DOCUMENT_CHARS) {
            throw new WireFormatException("the document has " + json.length() + " characters, more than "
                    + MAX_DOCUMENT_CHARS);
        }
        try (JsonParser p = MAPPER.createParser(json)) {
            JsonNode node = MAPPER.readTree(p);
            if (node == null || !node.isObject()) {
                throw new WireFormatException("the document is not a JSON object");
            }
            if (p.nextToken() != null) {
                throw new WireFormatException("content after the JSON object at character "
                        + p.currentLocation().getCharOffset());
            }
            return node;
        } catch (JsonProcessingException e) {
            throw new WireFormatException("malformed JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new WireFormatException("unreadable JSON: " + e.getMessage(), e);
        }
    }

    public static String write(JsonNode node) {
        try {
            return MAPPER.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Reads a whole document with a reader of its root object, e.g. {@code read(json, AttestationJson::evidence)}. */
    public static <T> T read(String json, Function<Fields, T> reader) {
        Fields f = new Fields(parse(json), "");
        T value = reader.apply(f);
        f.done();
        return value;
    }

    // ---- evidence ----------------------------------------------------------------------------------

    public static ObjectNode toJson(Evidence e) {
        ObjectNode o = NODES.objectNode();
        o.put("nonce", b64(e.nonce()));
        o.put("binding", b64(e.binding()));
        o.put("attest", b64(e.attest()));
        o.put("signature", b64(e.signature()));
        ArrayNode pcrs = o.putArray("pcrs");
        e.pcrs().forEach(p -> pcrs.addObject().put("index", p.index()).put("value", p.hex()));
        ArrayNode log = o.putArray("log");
        for (MeasurementEntry m : e.log()) {
            log.addObject().put("seq", m.sequence()).put("pcr", m.pcr()).put("kind", m.kind().label())
                    .put("component", m.component()).put("version", m.version()).put("sha256", m.sha256())
                    .put("time", m.time().toString());
        }
        o.put("akPublic", b64(e.akPublic()));
        o.put("akName", b64(e.akName()));
        return o;
    }

    public static Evidence evidence(Fields f) {
        byte[] nonce = f.bytes("nonce");
        byte[] binding = f.bytes("binding");
        byte[] attest = f.bytes("attest");
        byte[] signature = f.bytes("signature");
        List<Pcr> pcrs = f.list("pcrs", 24, p -> {
            int index = p.integer("index", 0, 23);
            return new Pcr(index, p.hex("value", 32));
        });
        List<MeasurementEntry> log = f.list("log", MAX_LOG_EVENTS, m -> new MeasurementEntry(
                m.longValue("seq", 1, Long.MAX_VALUE), m.integer("pcr", 0, 23), ComponentKind.ofLabel(m.text("kind")),
                m.text("component"), m.text("version"), m.text("sha256"), m.instant("time")));
        byte[] akPublic = f.bytes("akPublic");
        byte[] akName = f.bytes("akName");
        return f.value(() -> new Evidence(nonce, binding, attest, signature, pcrs, log, akPublic, akName));
    }

    // ---- verdict, remediation, result ---------------------------------------------------------------

    public static ObjectNode toJson(Verdict v) {
        ObjectNode o = NODES.objectNode();
        o.put("level", v.level());
        o.put("genuine", v.genuine());
        ArrayNode reasons = o.putArray("reasons");
        for (Reason r : v.reasons()) {
            ObjectNode ro = reasons.addObject().put("code", r.code().name());
            if (r.component() != null) {
                ro.put("component", r.component());
            }
            ro.put("message", r.message());
        }
        strings(o.putArray("failing"), v.failing());
        strings(o.putArray("unknown"), v.unknown());
        return o;
    }

    public static Verdict verdict(Fields f) {
        String level = f.text("level");
        boolean genuine = f.bool("genuine");
        List<Reason> reasons = f.list("reasons", MAX_LIST, r -> {
            String code = r.text("code");
            Reason.Code c;
            try {
                c = Reason.Code.valueOf(code);
            } catch (IllegalArgumentException e) {
                throw new WireFormatException(r.path("code") + ": unknown reason code '" + clip(code) + "'");
            }
            String component = r.optionalText("component");
            String message = r.text("message");
            return r.value(() -> new Reason(c, component, message));
        });
        List<String> failing = f.list("failing", MAX_LIST, Fields::asText);
        List<String> unknown = f.list("unknown", MAX_LIST, Fields::asText);
        return f.value(() -> new Verdict(level, genuine, reasons, failing, unknown));
    }

    public static ObjectNode toJson(Remediation r) {
        ObjectNode o = NODES.objectNode();
        ArrayNode features = o.putArray("features");
        for (Remediation.FeatureUpdate u : r.features()) {
            ObjectNode uo = features.addObject().put("component", u.component()).put("feature", u.feature())
                    .put("version", u.version());
            if (u.release() != null) {
                uo.put("release", u.release());
            }
        }
        strings(o.putArray("unresolved"), r.unresolved());
        if (r.repository() != null) {
            o.put("repository", r.repository());
        }
        return o;
    }

    public static Remediation remediation(Fields f) {
        List<Remediation.FeatureUpdate> features = f.list("features", MAX_LIST, u -> {
            String component = u.text("component");
            String feature = u.text("feature");
            String version = u.text("version");
            String release = u.optionalText("release");
            return u.value(() -> new Remediation.FeatureUpdate(component, feature, version, release));
        });
        List<String> unresolved = f.list("unresolved", MAX_LIST, Fields::asText);
        String repository = f.optionalText("repository");
        return new Remediation(features, unresolved, repository);
    }

    public static ObjectNode toJson(AttestationResult r) {
        ObjectNode o = NODES.objectNode();
        o.put("agent", r.agentId());
        o.put("time", r.time().toString());
        o.set("verdict", toJson(r.verdict()));
        if (r.requiredLevel() != null) {
            o.put("requiredLevel", r.requiredLevel());
        }
        o.put("qualifies", r.qualifies());
        o.set("remediation", toJson(r.remediation()));
        return o;
    }

    public static AttestationResult result(Fields f) {
        String agent = f.text("agent");
        Instant time = f.instant("time");
        Verdict verdict = f.object("verdict", AttestationJson::verdict);
        String required = f.optionalText("requiredLevel");
        boolean qualifies = f.bool("qualifies");
        Remediation remediation = f.object("remediation", AttestationJson::remediation);
        return f.value(() -> new AttestationResult(agent, time, verdict, required, qualifies, remediation));
    }

    public static ObjectNode toJson(AttestationRecord r) {
        ObjectNode o = NODES.objectNode();
        o.put("seq", r.seq());
        o.put("requester", r.requester());
        o.put("peer", r.peer());
        o.set("result", toJson(r.result()));
        return o;
    }

    public static AttestationRecord record(Fields f) {
        long seq = f.longValue("seq", 0, Long.MAX_VALUE);
        String requester = f.text("requester");
        boolean peer = f.bool("peer");
        AttestationResult result = f.object("result", AttestationJson::result);
        return new AttestationRecord(seq, requester, peer, result);
    }

    // ---- requests ---------------------------------------------------------------------------------

    public static ObjectNode toJson(NonceRequest r) {
        ObjectNode o = NODES.objectNode();
        if (r.agent() != null) {
            o.put("agent", r.agent());
        }
        o.put("binding", b64(r.binding()));
        return o;
    }

    public static NonceRequest nonceRequest(Fields f) {
        String agent = f.optionalText("agent");
        byte[] binding = f.has("binding") ? f.bytes("binding") : new byte[0];
        if (binding.length > Evidence.MAX_BINDING_BYTES) {
            throw new WireFormatException("binding: at most " + Evidence.MAX_BINDING_BYTES + " bytes, not " + binding.length);
        }
        return new NonceRequest(agent, binding);
    }

    public static ObjectNode toJson(NonceGrant g) {
        ObjectNode o = NODES.objectNode();
        o.put("nonce", b64(g.nonce()));
        o.put("agent", g.agent());
        o.put("binding", b64(g.binding()));
        o.put("expiresAt", g.expiresAt().toString());
        return o;
    }

    public static NonceGrant nonceGrant(Fields f) {
        byte[] nonce = f.bytes("nonce");
        if (nonce.length != Evidence.NONCE_BYTES) {
            throw new WireFormatException("nonce: " + Evidence.NONCE_BYTES + " bytes, not " + nonce.length);
        }
        return new NonceGrant(nonce, f.text("agent"), f.bytes("binding"), f.instant("expiresAt"));
    }

    public static ObjectNode toJson(EvidenceSubmission s) {
        ObjectNode o = NODES.objectNode();
        if (s.agent() != null) {
            o.put("agent", s.agent());
        }
        if (s.requiredLevel() != null) {
            o.put("requiredLevel", s.requiredLevel());
        }
        o.set("evidence", toJson(s.evidence()));
        return o;
    }

    public static EvidenceSubmission submission(Fields f) {
        String agent = f.optionalText("agent");
        String required = f.optionalText("requiredLevel");
        Evidence evidence = f.object("evidence", AttestationJson::evidence);
        return new EvidenceSubmission(agent, required, evidence);
    }

    // ---- helpers -------------------------------------------------------------------------------------

    private static void strings(ArrayNode a, List<String> values) {
        values.forEach(a::add);
    }

    private static String b64(byte[] b) {
        return Base64.getEncoder().encodeToString(b);
    }

    static String clip(String s) {
        return s.length() <= 60 ? s : s.substring(0, 60) + "...";
    }

    /**
     * The fields of one JSON object, read once each by name; {@link #done()} refuses any left over.
     * Errors name the field's path, e.g. {@code evidence.log[3].sha256}.
     */
    public static final class Fields {

        private final JsonNode node;
        private final String path;
        private final Set<String> read = new HashSet<>();

        Fields(JsonNode node, String path) {
            this.node = node;
            this.path = path;
        }

        String path(String name) {
            return path.isEmpty() ? name : path + "." + name;
        }

        boolean has(String name) {
            read.add(name);
            return node.has(name) && !node.get(name).isNull();
        }

        private JsonNode required(String name) {
            read.add(name);
            JsonNode v = node.get(name);
            if (v == null || v.isNull()) {
                throw new WireFormatException(path(name) + " is missing");
            }
            return v;
        }

        String text(String name) {
            JsonNode v = required(name);
            if (!v.isTextual()) {
                throw new WireFormatException(path(name) + " must be a string");
            }
            return v.textValue();
        }

        String optionalText(String name) {
            read.add(name);
            return has(name) ? text(name) : null;
        }

        String asText() {
            if (!node.isTextual()) {
                throw new WireFormatException(path + " must be a string");
            }
            return node.textValue();
        }

        boolean bool(String name) {
            JsonNode v = required(name);
            if (!v.isBoolean()) {
                throw new WireFormatException(path(name) + " must be true or false");
            }
            return v.booleanValue();
        }

        long longValue(String name, long min, long max) {
            JsonNode v = required(name);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < min || v.longValue() > max) {
                throw new WireFormatException(path(name) + " must be a whole number from " + min + " to " + max);
            }
            return v.longValue();
        }

        int integer(String name, int min, int max) {
            return (int) longValue(name, min, max);
        }

        byte[] bytes(String name) {
            String s = text(name);
            try {
                return Base64.getDecoder().decode(s);
            } catch (IllegalArgumentException e) {
                throw new WireFormatException(path(name) + " must be base64: " + e.getMessage());
            }
        }

        byte[] hex(String name, int length) {
            String s = text(name);
            if (s.length() != 2 * length || !s.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                throw new WireFormatException(path(name) + " must be " + 2 * length + " lower-case hex digits");
            }
            return HEX.parseHex(s);
        }

        Instant instant(String name) {
            String s = text(name);
            try {
                return Instant.parse(s);
            } catch (DateTimeParseException e) {
                throw new WireFormatException(path(name) + " must be an ISO-8601 instant, not '" + clip(s) + "'");
            }
        }

        <T> T object(String name, Function<Fields, T> reader) {
            JsonNode v = required(name);
            if (!v.isObject()) {
                throw new WireFormatException(path(name) + " must be an object");
            }
            Fields f = new Fields(v, path(name));
            T value = reader.apply(f);
            f.done();
            return value;
        }

        <T> List<T> list(String name, int max, Function<Fields, T> reader) {
            JsonNode v = required(name);
            if (!v.isArray()) {
                throw new WireFormatException(path(name) + " must be an array");
            }
            if (v.size() > max) {
                throw new WireFormatException(path(name) + " has " + v.size() + " elements, more than " + max);
            }
            List<T> out = new ArrayList<>(v.size());
            for (int i = 0; i < v.size(); i++) {
                JsonNode e = v.get(i);
                Fields f = new Fields(e, path(name) + "[" + i + "]");
                try {
                    out.add(reader.apply(f));
                } catch (WireFormatException x) {
                    throw x;
                } catch (IllegalArgumentException x) {
                    throw new WireFormatException(f.path + ": " + x.getMessage(), x);
                }
                f.done();
            }
            return out;
        }

        /** Builds a value type, turning its own validation failure into a wire error at this path. */
        <T> T value(java.util.function.Supplier<T> make) {
            try {
                return make.get();
            } catch (WireFormatException e) {
                throw e;
            } catch (IllegalArgumentException e) {
                throw new WireFormatException((path.isEmpty() ? "" : path + ": ") + e.getMessage(), e);
            }
        }

        void done() {
            if (!node.isObject()) {
                return;
            }
            for (Iterator<String> it = node.fieldNames(); it.hasNext();) {
                String n = it.next();
                if (!read.contains(n)) {
                    throw new WireFormatException(path(n) + ": unknown field");
                }
            }
        }
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
