package io.ferry.shell.vm;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Service;

@Service
@Command(scope = "vm", name = "undefine", description = "Removes a stopped domain's definition (its disk files stay).")
public class UndefineCommand extends VmCommand {

    @Argument(index = 0, name = "domain", description = "The domain name", required = true)
    @Completion(DomainCompleter.class)
    String domain;

    @Override
    public Object execute() {
        hypervisor().undefine(domain);
        System.out.println("Undefined " + domain);
        return null;
    }
}
