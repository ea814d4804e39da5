package io.ferry.shell.policy;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.ferry.api.policy.Policy;
import io.ferry.api.policy.PolicyService;
import io.ferry.api.policy.SignedPolicy;

@Service
@Command(scope = "policy", name = "show", description = "Shows the policy held for a VM: its identity, who signed "
        + "it, and the policy document as signed.")
public class ShowCommand extends PolicyCommand {

    @Argument(index = 0, name = "vm", description = "The VM's name or UUID", required = true)
    @Completion(VmCompleter.class)
    String vm;

    @Option(name = "-j", aliases = "--jws", description = "Print the signed form (JWS) instead, e.g. to copy it")
    boolean jws;

    @Override
    void run(PolicyService service) {
        SignedPolicy s = service.get(vm).orElseThrow(() -> new IllegalArgumentException(
                "this agent holds no policy for VM '" + vm + "' (policy:list shows those it holds)"));
        if (jws) {
            System.out.println(s.jws());
            return;
        }
        Policy p = s.policy();
        System.out.printf("VM:          %s%n", p.vm().name());
        System.out.printf("UUID:        %s%n", p.vm().uuid());
        System.out.printf("Image:       %s%n", p.vm().imageDigest());
        System.out.printf("Version:     %d%n", p.version());
        System.out.printf("Owner:       %s%n", p.owner());
        System.out.printf("Valid:       %s%n", p.validity());
        System.out.printf("Signed by:   %s (ES256)%n", s.keyId());
        System.out.println();
        System.out.print(s.document().endsWith("\n") ? s.document() : s.document() + "\n");
    }
}
