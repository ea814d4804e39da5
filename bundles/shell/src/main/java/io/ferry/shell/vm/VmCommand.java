package io.ferry.shell.vm;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.osgi.framework.BundleContext;

import io.ferry.api.hypervisor.Hypervisor;
import io.ferry.shell.support.Hypervisors;

/** What every vm: command shares: the host option and the per-call service lookup. */
abstract class VmCommand implements Action {

    @Reference
    BundleContext context;

    @Option(name = "-H", aliases = "--host", description = "The hypervisor host to act on (default: local)")
    @Completion(HostCompleter.class)
    String host;

    Hypervisor hypervisor() {
        return new Hypervisors(context).get(host);
    }
}
