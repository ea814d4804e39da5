package io.ferry.shell.protection;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.osgi.framework.BundleContext;

import io.ferry.api.protection.ProtectionAdmin;
import io.ferry.shell.support.Hypervisors;
import io.ferry.shell.support.Services;

/**
 * Base of the protection:* commands: the protection service is looked up per call, so that a
 * command run after a hot update of the hypervisor-protection bundle talks to the new one.
 */
abstract class ProtectionCommand implements Action {

    @Reference
    BundleContext context;

    ProtectionAdmin protection() {
        return Services.get(context, ProtectionAdmin.class,
                "hypervisor protection is not running (feature ferry-hypervisor-protection)");
    }

    /** The host's Ferry name: the one given, or the default host's. */
    String host(String host) {
        return new Hypervisors(context).get(host).hostName();
    }
}
