package io.ferry.shell.policy;

import java.util.Optional;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.ferry.api.policy.Policy;
import io.ferry.api.policy.PolicyService;
import io.ferry.api.policy.SignedPolicy;

@Service
@Command(scope = "policy", name = "fetch", description = "Fetches the policy the IT center published for a VM "
        + "(itcenter:publish-vm) through this agent's IT center link, and imports it with the same checks as "
        + "policy:import: the IT center's signature, the VM, and no older version than the one held.")
public class FetchCommand extends PolicyCommand {

    @Argument(index = 0, name = "vm", description = "The VM's name or UUID in the IT center's registry",
            required = true)
    @Completion(VmCompleter.class)
    String vm;

    @Override
    void run(PolicyService service) {
        Optional<Long> before = service.get(vm).map(h -> h.policy().version());
        SignedPolicy s = service.fetchPolicy(vm);
        Policy p = s.policy();
        String what = before.isEmpty() ? "Imported" : before.get() == p.version() ? "Already held"
                : "Updated (from version " + before.get() + ")";
        System.out.printf("%s: policy version %d for VM %s (%s), owner %s, %d rules, signed by %s%n", what,
                p.version(), p.vm().name(), p.vm().uuid(), p.owner(), p.rules().size(), s.keyId());
    }
}
