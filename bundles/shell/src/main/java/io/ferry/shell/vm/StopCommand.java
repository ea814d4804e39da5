package io.ferry.shell.vm;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;

@Service
@Command(scope = "vm", name = "stop", description = "Stops a running domain: a clean shutdown, or a power-off with --force.")
public class StopCommand extends VmCommand {

    @Argument(index = 0, name = "domain", description = "The domain name", required = true)
    @Completion(DomainCompleter.class)
    String domain;

    @Option(name = "-f", aliases = "--force", description = "Power the domain off at once instead of asking the guest")
    boolean force;

    @Override
    public Object execute() {
        hypervisor().stop(domain, force);
        System.out.println((force ? "Powered off " : "Asked to shut down: ") + domain);
        return null;
    }
}
