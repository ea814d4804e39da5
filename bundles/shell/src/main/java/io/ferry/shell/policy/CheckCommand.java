package io.ferry.shell.policy;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Set;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.completers.StringsCompleter;

import io.ferry.api.policy.Decision;
import io.ferry.api.policy.DecisionRequest;
import io.ferry.api.policy.Device;
import io.ferry.api.policy.Direction;
import io.ferry.api.policy.PolicyService;

@Service
@Command(scope = "policy", name = "check", description = "Shows what the policy of a VM would decide for a "
        + "migration, and why: the decision, the rule that made it, and every rule's outcome. A what-if: it is not "
        + "a decision on a real migration and is not reported to the audit log.")
public class CheckCommand extends PolicyCommand {

    @Argument(index = 0, name = "vm", description = "The VM's name or UUID", required = true)
    @Completion(VmCompleter.class)
    String vm;

    @Argument(index = 1, name = "user", description = "Who asks for the migration", required = true)
    String user;

    @Argument(index = 2, name = "target", description = "The device the VM would go to", required = true)
    String target;

    @Option(name = "-d", aliases = "--direction", description = "out: this device is the source (default); "
            + "in: this device is the target")
    @Completion(value = StringsCompleter.class, values = {"out", "in"})
    String direction = "out";

    @Option(name = "-l", aliases = "--target-level", description = "The target's security level (default: unknown, "
            + "which reaches no minimum)")
    @Completion(LevelCompleter.class)
    String targetLevel;

    @Option(name = "-g", aliases = "--group", multiValued = true, description = "A device group the target belongs "
            + "to (repeatable), in addition to the policy's own device-groups")
    List<String> groups;

    @Option(name = "-s", aliases = "--source", description = "The device the VM would leave (for --direction in)")
    String source;

    @Option(name = "-L", aliases = "--source-level", description = "The source's security level (for --direction in)")
    @Completion(LevelCompleter.class)
    String sourceLevel;

    @Option(name = "-G", aliases = "--source-group", multiValued = true, description = "A device group of the source "
            + "(repeatable)")
    List<String> sourceGroups;

    @Option(name = "-t", aliases = "--at", description = "Decide at this time instead of now, e.g. 2026-06-01T12:00:00Z")
    String at;

    @Override
    void run(PolicyService service) {
        Direction dir = switch (direction) {
            case "out" -> Direction.OUT;
            case "in" -> Direction.IN;
            default -> throw new IllegalArgumentException("--direction is out or in, not '" + direction + "'");
        };
        Instant time;
        try {
            time = at == null ? Instant.now() : OffsetDateTime.parse(at).toInstant();
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("--at takes a time with its offset, e.g. 2026-06-01T12:00:00Z", e);
        }
        Device t = new Device(target, groups == null ? Set.of() : Set.copyOf(groups), targetLevel);
        Device s = source == null && sourceLevel == null ? null
                : new Device(source == null ? "(source)" : source,
                        sourceGroups == null ? Set.of() : Set.copyOf(sourceGroups), sourceLevel);
        Decision d = service.check(new DecisionRequest(dir, vm, user, s, t, time));
        System.out.println((d.allowed() ? "ALLOW" : "DENY") + (d.rule() != null ? " by rule '" + d.rule() + "'" : "")
                + (d.version() >= 0 ? " (policy version " + d.version() + ")" : ""));
        System.out.println("Reason: " + d.reason());
        if (!d.trace().isEmpty()) {
            System.out.println("Rules:");
            d.trace().forEach(line -> System.out.println("  " + line));
        }
    }
}
