package io.ferry.shell.vm;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.ferry.api.hypervisor.DomainSummary;
import io.ferry.api.hypervisor.Hypervisor;
import io.ferry.shell.support.Units;

@Service
@Command(scope = "vm", name = "info", description = "Shows a domain's state and resources, or its libvirt XML.")
public class InfoCommand extends VmCommand {

    @Argument(index = 0, name = "domain", description = "The domain name", required = true)
    @Completion(DomainCompleter.class)
    String domain;

    @Option(name = "-x", aliases = "--xml", description = "Print the domain's libvirt XML instead")
    boolean xml;

    @Override
    public Object execute() {
        Hypervisor hv = hypervisor();
        if (xml) {
            System.out.println(hv.domainXml(domain));
            return null;
        }
        DomainSummary d = hv.domain(domain);
        System.out.printf("Name:        %s%n", d.name());
        System.out.printf("UUID:        %s%n", d.uuid());
        System.out.printf("Host:        %s (%s)%n", hv.hostName(), hv.uri());
        System.out.printf("State:       %s%n", d.state());
        System.out.printf("Memory:      %s%n", Units.bytes(d.memoryKiB() * 1024));
        System.out.printf("vCPUs:       %d%n", d.vcpus());
        System.out.printf("CPU time:    %s%n", Units.millis(d.cpuTimeNanos() / 1_000_000));
        System.out.printf("Persistent:  %s%n", d.persistent() ? "yes" : "no");
        return null;
    }
}
