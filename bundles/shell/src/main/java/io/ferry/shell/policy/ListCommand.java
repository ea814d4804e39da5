package io.ferry.shell.policy;

import java.util.List;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.ferry.api.policy.Policy;
import io.ferry.api.policy.PolicyService;
import io.ferry.api.policy.SignedPolicy;

@Service
@Command(scope = "policy", name = "list", description = "Lists the VM migration policies this agent holds "
        + "(sealed, each signed by the IT center).")
public class ListCommand extends PolicyCommand {

    @Override
    void run(PolicyService service) {
        List<SignedPolicy> policies = service.list();
        if (policies.isEmpty()) {
            System.out.println("No policies. Import one with policy:import <file>.");
            return;
        }
        String format = "%-24s %-36s %7s %-12s %5s  %s%n";
        System.out.printf(format, "VM", "UUID", "Version", "Owner", "Rules", "Valid");
        for (SignedPolicy s : policies) {
            Policy p = s.policy();
            System.out.printf(format, p.vm().name(), p.vm().uuid(), p.version(), p.owner(), p.rules().size(),
                    p.validity());
        }
    }
}
