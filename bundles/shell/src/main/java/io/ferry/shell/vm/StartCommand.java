package io.ferry.shell.vm;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Service;

@Service
@Command(scope = "vm", name = "start", description = "Starts a defined domain.")
public class StartCommand extends VmCommand {

    @Argument(index = 0, name = "domain", description = "The domain name", required = true)
    @Completion(DomainCompleter.class)
    String domain;

    @Override
    public Object execute() {
        hypervisor().start(domain);
        System.out.println("Started " + domain);
        return null;
    }
}
