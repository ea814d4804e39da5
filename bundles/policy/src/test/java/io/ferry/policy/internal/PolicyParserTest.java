package io.ferry.policy.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.yaml.snakeyaml.Yaml;

import io.ferry.api.policy.Direction;
import io.ferry.api.policy.Effect;
import io.ferry.api.policy.Policy;
import io.ferry.api.policy.PolicyError;
import io.ferry.api.policy.PolicyException;
import io.ferry.api.policy.PolicyFormatException;
import io.ferry.api.policy.Rule;

class PolicyParserTest {

    static List<PolicyError> errors(String document) {
        PolicyFormatException e = catchThrowableOfType(PolicyFormatException.class,
                () -> PolicyParser.parse(document, Fixtures.LEVELS));
        assertThat(e).as("the document should be refused").isNotNull();
        assertThat(e.reason()).isEqualTo(PolicyException.Reason.INVALID_DOCUMENT);
        return e.errors();
    }

    @Test
    void readsTheExample() {
        Policy p = PolicyParser.parse(Fixtures.POLICY, Fixtures.LEVELS);
        assertThat(p.version()).isEqualTo(3);
        assertThat(p.vm().name()).isEqualTo("alice-desktop");
        assertThat(p.vm().uuid()).isEqualTo(Fixtures.UUID);
        assertThat(p.vm().imageDigest()).isEqualTo(Fixtures.DIGEST);
        assertThat(p.owner()).isEqualTo("alice");
        assertThat(p.roles()).isEqualTo(Map.of("family", List.of("bob", "carol"), "it-admins", List.of("dave")));
        assertThat(p.deviceGroups()).isEqualTo(Map.of("alice-devices", List.of("alice-mid", "alice-laptop")));
        assertThat(p.validity().from()).isEqualTo(Instant.parse("2026-01-01T00:00:00Z"));
        assertThat(p.validity().until()).isEqualTo(Instant.parse("2027-01-01T00:00:00Z"));
        assertThat(p.rules()).extracting(Rule::id).containsExactly("owner-own-devices", "family-home-pc",
                "admins-maintenance", "never-public", "no-carol-laptop");
        Rule first = p.rules().get(0);
        assertThat(first.effect()).isEqualTo(Effect.ALLOW);
        assertThat(first.directions()).isEqualTo(Set.of(Direction.OUT, Direction.IN));
        assertThat(first.roles()).containsExactly("owner");
        assertThat(first.groups()).containsExactly("alice-devices");
        assertThat(first.minTargetLevel()).isEqualTo("measured");
        assertThat(first.minSourceLevel()).isEqualTo("measured");
        assertThat(first.line()).isEqualTo(17);
        assertThat(p.rules().get(3).users()).containsExactly("*");
        assertThat(p.rules().get(3).effect()).isEqualTo(Effect.DENY);
        assertThat(p.rules().get(2).validity().from()).isEqualTo(Instant.parse("2026-06-01T00:00:00Z"));
        assertThat(p.hasRole("alice", "owner")).isTrue();
        assertThat(p.hasRole("bob", "owner")).isFalse();
        assertThat(p.hasRole("bob", "family")).isTrue();
    }

    static Arguments bad(String what, String find, String replace, String field, int line, String message) {
        return Arguments.of(what, find, replace, field, line, message);
    }

    static Stream<Arguments> invalid() {
        return Stream.of(
                bad("format version", "ferry-policy: 1", "ferry-policy: 2", "ferry-policy", 1, "unknown format '2'"),
                bad("version not a number", "version: 3", "version: three", "version", 2, "a whole number"),
                bad("version zero", "version: 3", "version: 0", "version", 2, "from 1 up"),
                bad("version negative", "version: 3", "version: -4", "version", 2, "from 1 up"),
                bad("version missing", "version: 3\n", "", "version", 1, "missing"),
                bad("unknown top field", "owner: alice", "owner: alice\nownr: bob", "ownr", 8, "unknown field 'ownr'"),
                bad("vm uuid", "uuid: 3f6c1a52-8d2e-4c1b-9a7e-2b5d4e6f7a81", "uuid: 3f6c1a52", "vm.uuid", 5, "a UUID"),
                bad("vm digest", "image-digest: sha256:ab", "image-digest: md5:ab", "vm.image-digest", 6, "sha256:"),
                bad("vm name missing", "  name: alice-desktop\n", "", "vm.name", 4, "missing"),
                bad("vm name invalid", "name: alice-desktop", "name: 'alice desktop'", "vm.name", 4, "libvirt domain name"),
                bad("vm as a list", "vm:\n  name: alice-desktop\n  uuid: 3f6c1a52-8d2e-4c1b-9a7e-2b5d4e6f7a81\n"
                        + "  image-digest: sha256:" + "ab".repeat(32) + "\n", "vm: [x]\n", "vm", 3, "a mapping"),
                bad("owner as a list", "owner: alice", "owner: [alice]", "owner", 7, "a single value"),
                bad("owner missing", "owner: alice\n", "", "owner", 1, "missing"),
                bad("role named owner", "  it-admins: [dave]", "  it-admins: [dave]\n  owner: [eve]", "roles.owner", 11,
                        "built-in role"),
                bad("role members not a list", "family: [bob, carol]", "family: bob", "roles.family", 9, "a list of names"),
                bad("user listed twice", "family: [bob, carol]", "family: [bob, bob]", "roles.family[1]", 9, "listed twice"),
                bad("bad user name", "family: [bob, carol]", "family: [bob, 'car ol']", "roles.family[1]", 9,
                        "a name of letters"),
                bad("policy validity until before from", "until: 2027-01-01T00:00:00Z", "until: 2025-01-01T00:00:00Z",
                        "valid.until", 15, "ends"),
                bad("policy validity bad time", "from: 2026-01-01T00:00:00Z", "from: next tuesday", "valid.from", 14,
                        "a time with its offset"),
                bad("time without offset", "from: 2026-01-01T00:00:00Z", "from: 2026-01-01T00:00:00", "valid.from", 14,
                        "a time with its offset"),
                bad("validity unknown field", "  until: 2027-01-01T00:00:00Z", "  till: 2027-01-01T00:00:00Z",
                        "valid.till", 15, "unknown field"),
                bad("effect", "effect: allow\n    direction: both", "effect: permit\n    direction: both",
                        "rules[0].effect", 18, "allow or deny, not 'permit'"),
                bad("direction", "direction: both\n    roles: [owner]", "direction: sideways\n    roles: [owner]",
                        "rules[0].direction", 19, "out, in or both"),
                bad("unknown rule field", "min-target-level: attested", "min-level: attested", "rules[1].min-level", 30,
                        "unknown field 'min-level'"),
                bad("undefined role", "roles: [family]", "roles: [familly]", "rules[1].roles[0]", 28,
                        "no role 'familly' is defined"),
                bad("duplicate rule id", "id: family-home-pc", "id: owner-own-devices", "rules[1].id", 25,
                        "used already on line 17"),
                bad("rule id missing", "  - id: family-home-pc\n    effect: allow", "  - effect: allow", "rules[1].id", 25,
                        "missing"),
                bad("unknown level", "min-target-level: attested", "min-target-level: superb", "rules[1].min-target-level",
                        30, "unknown security level 'superb'"),
                bad("level on a deny rule", "    groups: [public]", "    groups: [public]\n    min-target-level: basic",
                        "rules[3].min-target-level", 45, "belongs to allow rules"),
                bad("source level on an out rule", "    min-target-level: attested",
                        "    min-target-level: attested\n    min-source-level: basic", "rules[1].min-source-level", 31,
                        "migrate-in only"),
                bad("rule without subjects", "    roles: [family]\n", "", "rules[1].users", 25, "names its subjects"),
                bad("rule with empty subjects", "roles: [family]", "roles: []", "rules[1].users", 25,
                        "names its subjects"),
                bad("rule without targets", "    devices: [home-pc]\n", "", "rules[1].devices", 25,
                        "names its target devices"),
                bad("rule validity", "until: 2026-06-02T00:00:00Z", "until: 2026-05-02T00:00:00Z",
                        "rules[2].valid.until", 39, "ends"),
                bad("rule is not a mapping", "  - id: no-carol-laptop\n    effect: deny\n    direction: out\n"
                        + "    users: [carol]\n    devices: [alice-laptop]\n", "  - just text\n", "rules[4]", 45,
                        "a mapping"),
                bad("field given twice", "version: 3", "version: 3\nversion: 4", "version", 3, "given twice"),
                bad("wildcard where none is allowed", "roles: [family]", "roles: ['*']", "rules[1].roles[0]", 28,
                        "a name of letters"),
                bad("YAML syntax", "family: [bob, carol]", "family: [bob, carol", "", 10, "not valid YAML"),
                bad("tab indentation", "  family: [bob, carol]", "\tfamily: [bob, carol]", "", 9, "not valid YAML"),
                bad("two documents", "owner: alice", "owner: alice\n---\nowner: bob", "", 8, "not valid YAML"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalid")
    void namesFieldAndLine(String what, String find, String replace, String field, int line, String message) {
        assertThat(Fixtures.POLICY).contains(find);
        List<PolicyError> errors = errors(Fixtures.POLICY.replace(find, replace));
        assertThat(errors).as(errors.toString())
                .anySatisfy(e -> {
                    assertThat(e.field()).isEqualTo(field);
                    assertThat(e.line()).isEqualTo(line);
                    assertThat(e.message()).contains(message);
                });
    }

    @Test
    void reportsEveryErrorAtOnce() {
        String doc = Fixtures.POLICY.replace("version: 3", "version: x").replace("effect: deny", "effect: block")
                .replace("min-target-level: attested", "min-target-level: superb");
        List<PolicyError> errors = errors(doc);
        assertThat(errors).extracting(PolicyError::field).containsExactlyInAnyOrder("version",
                "rules[1].min-target-level", "rules[3].effect", "rules[4].effect");
        assertThat(errors).extracting(PolicyError::line).containsExactlyInAnyOrder(2, 30, 41, 46);
        PolicyFormatException e = catchThrowableOfType(PolicyFormatException.class,
                () -> PolicyParser.parse(doc, Fixtures.LEVELS));
        assertThat(e.getMessage()).startsWith("invalid policy (4 errors):")
                .contains("line 2:10, version: a whole number from 1 up, not 'x'");
    }

    @Test
    void emptyOrScalarDocument() {
        assertThat(errors("")).singleElement().satisfies(e -> assertThat(e.message()).contains("a mapping of fields"));
        assertThat(errors("just words")).singleElement().satisfies(e -> assertThat(e.line()).isEqualTo(1));
        assertThat(errors("- a\n- b\n")).singleElement().satisfies(e -> assertThat(e.message()).contains("mapping"));
    }

    @Test
    void everyRequiredFieldOfAnEmptyMapping() {
        assertThat(errors("{}\n")).extracting(PolicyError::field)
                .containsExactlyInAnyOrder("ferry-policy", "version", "vm", "owner", "rules");
    }

    @Test
    void aliasBombIsRefusedQuickly() {
        StringBuilder doc = new StringBuilder("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for (int i = 1; i < 10; i++) {
            doc.append("a").append(i).append(": &a").append(i).append(" [");
            for (int j = 0; j < 10; j++) {
                doc.append(j == 0 ? "" : ", ").append("*a").append(i - 1);
            }
            doc.append("]\n");
        }
        long start = System.nanoTime();
        assertThat(errors(doc.toString())).isNotEmpty();
        assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(5_000);
    }

    @Test
    void oversizedDocumentIsRefused() {
        String doc = Fixtures.POLICY + "#" + "x".repeat(PolicyParser.MAX_CHARS);
        assertThat(errors(doc)).singleElement().satisfies(e -> assertThat(e.message()).contains("at most"));
    }

    @Test
    void yamlTagsConstructNothing() {
        String doc = Fixtures.POLICY.replace("owner: alice", "owner: !!javax.script.ScriptEngineManager [x]");
        // SnakeYAML 2 refuses global tags while composing: nothing is looked up, let alone constructed
        assertThat(errors(doc)).singleElement().satisfies(e -> {
            assertThat(e.line()).isEqualTo(7);
            assertThat(e.message()).contains("not valid YAML").contains("Global tag is not allowed");
        });
    }

    @Test
    void peekVersion() {
        assertThat(PolicyParser.peekVersion(Fixtures.version(42))).isEqualTo(42);
        assertThat(PolicyParser.peekVersion("not: [valid")).isEqualTo(-1);
        assertThat(PolicyParser.peekVersion("version: x")).isEqualTo(-1);
    }

    @Test
    void levelsComeFromTheOrderingGiven() {
        assertThatThrownBy(() -> PolicyParser.parse(Fixtures.POLICY,
                Levels.parse("low, high"))).isInstanceOf(PolicyFormatException.class)
                .hasMessageContaining("unknown security level 'measured'; the levels are low < high");
    }

    /** docs/policy.schema.json names exactly the fields the parser accepts. */
    @Test
    @SuppressWarnings("unchecked")
    void schemaMatchesParser() throws IOException {
        Map<String, Object> schema = new Yaml().load(Files.readString(docs().resolve("policy.schema.json")));
        Map<String, Object> props = (Map<String, Object>) schema.get("properties");
        assertThat(props.keySet()).isEqualTo(PolicyParser.TOP_KEYS);
        Map<String, Object> vm = (Map<String, Object>) ((Map<String, Object>) props.get("vm")).get("properties");
        assertThat(vm.keySet()).isEqualTo(PolicyParser.VM_KEYS);
        Map<String, Object> defs = (Map<String, Object>) schema.get("$defs");
        Map<String, Object> rule = (Map<String, Object>) ((Map<String, Object>) defs.get("rule")).get("properties");
        assertThat(rule.keySet()).isEqualTo(PolicyParser.RULE_KEYS);
        Map<String, Object> valid = (Map<String, Object>) ((Map<String, Object>) defs.get("validity")).get("properties");
        assertThat(valid.keySet()).isEqualTo(PolicyParser.VALID_KEYS);
        assertThat((List<String>) schema.get("required"))
                .containsExactlyInAnyOrder("ferry-policy", "version", "vm", "owner", "rules");
    }

    /** The example in docs/policy.md is a valid policy. */
    @Test
    void documentedExampleParses() throws IOException {
        String md = Files.readString(docs().resolve("policy.md"));
        int start = md.indexOf("```yaml\nferry-policy: 1");
        assertThat(start).as("docs/policy.md has a ```yaml example starting with ferry-policy: 1").isNotNegative();
        String example = md.substring(start + "```yaml\n".length(), md.indexOf("```", start + 7));
        Policy p = PolicyParser.parse(example, io.ferry.api.attestation.SecurityLevels.DEFAULT);
        assertThat(p.rules()).isNotEmpty();
    }

    static Path docs() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.isDirectory(p.resolve("docs"))) {
            p = p.getParent();
        }
        assertThat(p).as("a docs folder above " + Path.of("").toAbsolutePath()).isNotNull();
        return p.resolve("docs");
    }
}
