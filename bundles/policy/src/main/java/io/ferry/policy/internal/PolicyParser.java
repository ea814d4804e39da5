package io.ferry.policy.internal;

import java.io.StringReader;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

import io.ferry.api.policy.Direction;
import io.ferry.api.policy.Effect;
import io.ferry.api.policy.Policy;
import io.ferry.api.policy.PolicyError;
import io.ferry.api.policy.PolicyFormatException;
import io.ferry.api.policy.Rule;
import io.ferry.api.attestation.SecurityLevels;
import io.ferry.api.policy.Validity;
import io.ferry.api.policy.VmIdentity;

/**
 * Reads a policy document. SnakeYAML only composes the document into a node tree (no object is
 * constructed from tags, so no YAML gadget can run); this class walks the tree, keeps every node's
 * position, and collects every error with its field path and line instead of stopping at the first.
 * The accepted fields are those of {@code docs/policy.schema.json} (a test keeps the two in step).
 */
public final class PolicyParser {

    /** The format version this parser reads ({@code ferry-policy: 1}). */
    public static final int FORMAT = 1;
    /** A document larger than this is refused before parsing. */
    public static final int MAX_CHARS = 256 * 1024;

    static final Set<String> TOP_KEYS = Set.of("ferry-policy", "version", "vm", "owner", "roles", "device-groups",
            "valid", "rules");
    static final Set<String> VM_KEYS = Set.of("name", "uuid", "image-digest");
    static final Set<String> VALID_KEYS = Set.of("from", "until");
    static final Set<String> RULE_KEYS = Set.of("id", "effect", "direction", "users", "roles", "devices", "groups",
            "min-target-level", "min-source-level", "valid", "description");

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}");
    private static final Pattern RULE_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    private static final Pattern UUID = Pattern.compile(
            "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
    private static final Pattern DIGEST = Pattern.compile("sha256:[0-9a-f]{64}");
    private static final Pattern VERSION = Pattern.compile("[0-9]{1,18}");
    private static final Pattern DOMAIN_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._+-]{0,127}");

    private final SecurityLevels levels;
    private final List<PolicyError> errors = new ArrayList<>();

    private PolicyParser(SecurityLevels levels) {
        this.levels = levels;
    }

    /**
     * Parses and validates a document.
     *
     * @param levels the security levels a minimum may name
     * @throws PolicyFormatException with every error found
     */
    public static Policy parse(String document, SecurityLevels levels) {
        return new PolicyParser(levels).document(document);
    }

    /**
     * The {@code version} of a document, read without validating anything else, or -1 when it has
     * none that can be read (for the version of a stored policy whose signature no longer verifies).
     */
    public static long peekVersion(String document) {
        try {
            Node root = compose(document);
            if (root instanceof MappingNode m) {
                for (NodeTuple t : m.getValue()) {
                    if (t.getKeyNode() instanceof ScalarNode k && k.getValue().equals("version")
                            && t.getValueNode() instanceof ScalarNode v && VERSION.matcher(v.getValue()).matches()) {
                        return Long.parseLong(v.getValue());
                    }
                }
            }
        } catch (YAMLException e) {
            // not readable: no version
        }
        return -1;
    }

    private static Node compose(String document) {
        LoaderOptions options = new LoaderOptions();
        options.setMaxAliasesForCollections(20);
        options.setAllowRecursiveKeys(false);
        options.setNestingDepthLimit(20);
        options.setCodePointLimit(MAX_CHARS);
        return new Yaml(options).compose(new StringReader(document));
    }

    private Policy document(String document) {
        if (document.length() > MAX_CHARS) {
            throw fail("", 0, "the document has " + document.length() + " characters; at most " + MAX_CHARS);
        }
        Node root;
        try {
            root = compose(document);
        } catch (MarkedYAMLException e) {
            Mark m = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
            String problem = e.getProblem() != null ? e.getProblem() : e.getMessage();
            throw fail("", m, "not valid YAML: " + (e.getContext() != null ? e.getContext() + ", " : "") + problem);
        } catch (YAMLException e) {
            throw fail("", 0, "not valid YAML: " + e.getMessage());
        }
        if (!(root instanceof MappingNode top)) {
            throw fail("", root == null ? 0 : line(root), "a policy document is a mapping of fields (ferry-policy, "
                    + "version, vm, owner, rules, ...)");
        }
        Map<String, NodeTuple> f = fields("", top, TOP_KEYS);

        Node format = required("", top, f, "ferry-policy");
        if (format != null) {
            String v = scalar("ferry-policy", format);
            if (v != null && !v.equals(String.valueOf(FORMAT))) {
                error("ferry-policy", format, "unknown format '" + v + "'; this agent reads format " + FORMAT);
            }
        }
        long version = -1;
        Node versionNode = required("", top, f, "version");
        if (versionNode != null) {
            String v = scalar("version", versionNode);
            if (v != null) {
                if (!VERSION.matcher(v).matches() || Long.parseLong(v) < 1) {
                    error("version", versionNode, "a whole number from 1 up, not '" + v + "'");
                } else {
                    version = Long.parseLong(v);
                }
            }
        }
        VmIdentity vm = vm(required("", top, f, "vm"));
        String owner = name("owner", required("", top, f, "owner"), false);
        Map<String, List<String>> roles = nameLists("roles", f.get("roles"), true);
        if (roles.containsKey(Policy.OWNER_ROLE)) {
            error("roles.owner", keyNode(f.get("roles"), Policy.OWNER_ROLE),
                    "'owner' is the built-in role of the policy's owner; name this role otherwise");
        }
        Map<String, List<String>> groups = nameLists("device-groups", f.get("device-groups"), false);
        Validity validity = validity("valid", f.get("valid"));
        List<Rule> rules = rules(required("", top, f, "rules"), roles);

        if (!errors.isEmpty()) {
            throw new PolicyFormatException(errors);
        }
        return new Policy(version, vm, owner, roles, groups, validity, rules);
    }

    private VmIdentity vm(Node node) {
        if (node == null) {
            return null;
        }
        MappingNode m = mapping("vm", node);
        if (m == null) {
            return null;
        }
        Map<String, NodeTuple> f = fields("vm", m, VM_KEYS);
        String name = match("vm.name", required("vm", m, f, "name"), DOMAIN_NAME,
                "a libvirt domain name: letters, digits and . _ + -");
        String uuid = match("vm.uuid", required("vm", m, f, "uuid"), UUID,
                "a UUID (8-4-4-4-12 hex digits) as libvirt shows it");
        String digest = match("vm.image-digest", required("vm", m, f, "image-digest"), DIGEST,
                "sha256: and 64 lower-case hex digits");
        return name == null || uuid == null || digest == null ? null
                : new VmIdentity(name, uuid.toLowerCase(java.util.Locale.ROOT), digest);
    }

    private List<Rule> rules(Node node, Map<String, List<String>> roles) {
        List<Rule> rules = new ArrayList<>();
        if (node == null) {
            return rules;
        }
        if (!(node instanceof SequenceNode seq)) {
            error("rules", node, "a list of rules");
            return rules;
        }
        if (seq.getValue().isEmpty()) {
            error("rules", node, "at least one rule (a policy without rules denies everything; say so with a deny rule)");
        }
        Map<String, Integer> ids = new LinkedHashMap<>();
        for (int i = 0; i < seq.getValue().size(); i++) {
            Rule r = rule("rules[" + i + "]", seq.getValue().get(i), roles);
            if (r != null) {
                Integer first = ids.putIfAbsent(r.id(), r.line());
                if (first != null) {
                    error("rules[" + i + "].id", r.line(), "rule id '" + r.id() + "' is used already on line " + first);
                }
                rules.add(r);
            }
        }
        return rules;
    }

    private Rule rule(String path, Node node, Map<String, List<String>> roles) {
        MappingNode m = mapping(path, node);
        if (m == null) {
            return null;
        }
        int before = errors.size();
        Map<String, NodeTuple> f = fields(path, m, RULE_KEYS);
        String id = match(path + ".id", required(path, m, f, "id"), RULE_ID,
                "letters, digits and . _ - (at most 64)");
        Effect effect = null;
        Node effectNode = required(path, m, f, "effect");
        String e = scalar(path + ".effect", effectNode);
        if (e != null) {
            switch (e) {
                case "allow" -> effect = Effect.ALLOW;
                case "deny" -> effect = Effect.DENY;
                default -> error(path + ".effect", effectNode, "allow or deny, not '" + e + "'");
            }
        }
        Set<Direction> directions = EnumSet.noneOf(Direction.class);
        Node dirNode = required(path, m, f, "direction");
        String d = scalar(path + ".direction", dirNode);
        if (d != null) {
            switch (d) {
                case "out" -> directions.add(Direction.OUT);
                case "in" -> directions.add(Direction.IN);
                case "both" -> directions.addAll(EnumSet.allOf(Direction.class));
                default -> error(path + ".direction", dirNode, "out, in or both, not '" + d + "'");
            }
        }
        int beforeSubjects = errors.size();
        List<String> users = names(path + ".users", value(f, "users"), true);
        List<String> ruleRoles = names(path + ".roles", value(f, "roles"), false);
        Node rolesNode = value(f, "roles");
        if (rolesNode instanceof SequenceNode rs) {
            for (int i = 0; i < rs.getValue().size(); i++) {
                Node rn = rs.getValue().get(i);
                if (rn instanceof ScalarNode s && !s.getValue().equals(Policy.OWNER_ROLE)
                        && NAME.matcher(s.getValue()).matches() && !roles.containsKey(s.getValue())) {
                    error(path + ".roles[" + i + "]", rn, "no role '" + s.getValue() + "' is defined under roles "
                            + "(defined: " + (roles.isEmpty() ? "none" : String.join(", ", roles.keySet()))
                            + "; 'owner' is built in)");
                }
            }
        }
        if (users.isEmpty() && ruleRoles.isEmpty() && errors.size() == beforeSubjects) {
            error(path + ".users", f.containsKey("users") ? value(f, "users") : m,
                    "a rule names its subjects: users, roles or both (users: ['*'] for anyone)");
        }
        int beforeTargets = errors.size();
        List<String> devices = names(path + ".devices", value(f, "devices"), true);
        List<String> groups = names(path + ".groups", value(f, "groups"), false);
        if (devices.isEmpty() && groups.isEmpty() && errors.size() == beforeTargets) {
            error(path + ".devices", f.containsKey("devices") ? value(f, "devices") : m, "a rule names its target devices: devices, groups or both "
                    + "(devices: ['*'] for any device)");
        }
        String minTarget = level(path + ".min-target-level", value(f, "min-target-level"));
        String minSource = level(path + ".min-source-level", value(f, "min-source-level"));
        if (effect == Effect.DENY) {
            for (String k : List.of("min-target-level", "min-source-level")) {
                if (f.containsKey(k)) {
                    error(path + "." + k, value(f, k), "a minimum level belongs to allow rules; a deny rule "
                            + "applies whatever the level");
                }
            }
        }
        if (f.containsKey("min-source-level") && directions.equals(EnumSet.of(Direction.OUT))) {
            error(path + ".min-source-level", value(f, "min-source-level"),
                    "the source's level is checked on migrate-in only; this rule is for direction out");
        }
        Validity validity = validity(path + ".valid", f.get("valid"));
        String description = f.containsKey("description") ? scalar(path + ".description", value(f, "description")) : null;
        if (errors.size() > before || id == null || effect == null || directions.isEmpty()) {
            return null;
        }
        return new Rule(id, effect, directions, users, ruleRoles, devices, groups, minTarget, minSource, validity,
                description, line(m));
    }

    private String level(String path, Node node) {
        if (node == null) {
            return null;
        }
        String v = scalar(path, node);
        if (v != null && !Levels.known(levels, v)) {
            error(path, node, "unknown security level '" + v + "'; the levels are " + Levels.describe(levels));
            return null;
        }
        return v;
    }

    private Validity validity(String path, NodeTuple tuple) {
        if (tuple == null) {
            return Validity.ALWAYS;
        }
        MappingNode m = mapping(path, tuple.getValueNode());
        if (m == null) {
            return Validity.ALWAYS;
        }
        Map<String, NodeTuple> f = fields(path, m, VALID_KEYS);
        Instant from = instant(path + ".from", value(f, "from"));
        Instant until = instant(path + ".until", value(f, "until"));
        if (from == null && until == null && f.isEmpty()) {
            error(path, m, "a validity period has from, until or both");
        }
        if (from != null && until != null && !from.isBefore(until)) {
            error(path + ".until", value(f, "until"), "the period ends (" + until + ") before it starts (" + from + ")");
            return Validity.ALWAYS;
        }
        return new Validity(from, until);
    }

    private Instant instant(String path, Node node) {
        if (node == null) {
            return null;
        }
        String v = scalar(path, node);
        if (v == null) {
            return null;
        }
        try {
            return OffsetDateTime.parse(v).toInstant();
        } catch (DateTimeParseException e) {
            error(path, node, "a time with its offset, e.g. 2026-05-01T00:00:00Z, not '" + v + "'");
            return null;
        }
    }

    /** role or group name to member names. */
    private Map<String, List<String>> nameLists(String path, NodeTuple tuple, boolean users) {
        Map<String, List<String>> result = new LinkedHashMap<>();
        if (tuple == null) {
            return result;
        }
        MappingNode m = mapping(path, tuple.getValueNode());
        if (m == null) {
            return result;
        }
        for (NodeTuple t : m.getValue()) {
            String key = name(path, t.getKeyNode(), false);
            if (key == null) {
                continue;
            }
            if (result.containsKey(key)) {
                error(path + "." + key, t.getKeyNode(), "defined twice");
                continue;
            }
            List<String> members = names(path + "." + key, t.getValueNode(), false);
            result.put(key, members);
        }
        return result;
    }

    private List<String> names(String path, Node node, boolean wildcard) {
        List<String> result = new ArrayList<>();
        if (node == null) {
            return result;
        }
        if (!(node instanceof SequenceNode seq)) {
            error(path, node, "a list of names, e.g. [alice, bob]");
            return result;
        }
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < seq.getValue().size(); i++) {
            String n = name(path + "[" + i + "]", seq.getValue().get(i), wildcard);
            if (n != null && !seen.add(n)) {
                error(path + "[" + i + "]", seq.getValue().get(i), "'" + n + "' is listed twice");
            } else if (n != null) {
                result.add(n);
            }
        }
        return result;
    }

    private String name(String path, Node node, boolean wildcard) {
        if (node == null) {
            return null;
        }
        String v = scalar(path, node);
        if (v == null) {
            return null;
        }
        if (wildcard && v.equals("*")) {
            return v;
        }
        if (!NAME.matcher(v).matches()) {
            error(path, node, "a name of letters, digits and . _ @ + - (at most 128)" + (wildcard ? ", or '*'" : "")
                    + ", not '" + v + "'");
            return null;
        }
        return v;
    }

    private String match(String path, Node node, Pattern pattern, String what) {
        if (node == null) {
            return null;
        }
        String v = scalar(path, node);
        if (v != null && !pattern.matcher(v).matches()) {
            error(path, node, what + ", not '" + v + "'");
            return null;
        }
        return v;
    }

    private String scalar(String path, Node node) {
        if (node == null) {
            return null;
        }
        if (!(node instanceof ScalarNode s)) {
            error(path, node, "a single value, not a " + (node instanceof MappingNode ? "mapping" : "list"));
            return null;
        }
        return s.getValue();
    }

    private MappingNode mapping(String path, Node node) {
        if (node instanceof MappingNode m) {
            return m;
        }
        error(path, node, "a mapping of fields");
        return null;
    }

    /** The fields of a mapping; unknown and repeated keys are errors. */
    private Map<String, NodeTuple> fields(String path, MappingNode m, Set<String> known) {
        Map<String, NodeTuple> f = new LinkedHashMap<>();
        for (NodeTuple t : m.getValue()) {
            String p = path.isEmpty() ? "" : path + ".";
            if (!(t.getKeyNode() instanceof ScalarNode k)) {
                error(path, t.getKeyNode(), "a field name must be a plain word");
                continue;
            }
            String key = k.getValue();
            if (!known.contains(key)) {
                error(p + key, k, "unknown field '" + key + "'; known here: " + String.join(", ", new java.util.TreeSet<>(known)));
            } else if (f.containsKey(key)) {
                error(p + key, k, "given twice (first on line " + line(f.get(key).getKeyNode()) + ")");
            } else {
                f.put(key, t);
            }
        }
        return f;
    }

    private Node required(String path, MappingNode m, Map<String, NodeTuple> f, String key) {
        NodeTuple t = f.get(key);
        if (t == null) {
            error(path.isEmpty() ? key : path + "." + key, m, "missing (required)");
            return null;
        }
        return t.getValueNode();
    }

    private static Node value(Map<String, NodeTuple> f, String key) {
        NodeTuple t = f.get(key);
        return t == null ? null : t.getValueNode();
    }

    private static Node keyNode(NodeTuple tuple, String key) {
        if (tuple != null && tuple.getValueNode() instanceof MappingNode m) {
            for (NodeTuple t : m.getValue()) {
                if (t.getKeyNode() instanceof ScalarNode s && s.getValue().equals(key)) {
                    return s;
                }
            }
        }
        return tuple == null ? null : tuple.getKeyNode();
    }

    private static int line(Node node) {
        return node.getStartMark() == null ? 0 : node.getStartMark().getLine() + 1;
    }

    private void error(String path, Node node, String message) {
        Mark mark = node == null ? null : node.getStartMark();
        errors.add(new PolicyError(path, mark == null ? 0 : mark.getLine() + 1, mark == null ? 0 : mark.getColumn() + 1,
                message));
    }

    private void error(String path, int line, String message) {
        errors.add(new PolicyError(path, line, 0, message));
    }

    private static PolicyFormatException fail(String path, Mark mark, String message) {
        return new PolicyFormatException(List.of(new PolicyError(path, mark == null ? 0 : mark.getLine() + 1,
                mark == null ? 0 : mark.getColumn() + 1, message)));
    }

    private static PolicyFormatException fail(String path, int line, String message) {
        return new PolicyFormatException(List.of(new PolicyError(path, line, 0, message)));
    }
}
