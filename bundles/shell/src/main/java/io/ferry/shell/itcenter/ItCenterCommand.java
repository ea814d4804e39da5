package io.ferry.shell.itcenter;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.console.Session;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;

import io.ferry.api.itcenter.ItCenter;

/**
 * Base of the itcenter:* commands: the ItCenter service is looked up per call, so that a command
 * never holds a stale service across an update of the IT center bundle.
 */
abstract class ItCenterCommand implements Action {

    @Reference
    BundleContext context;

    @Reference(optional = true)
    Session session;

    ItCenter itCenter() {
        ServiceReference<ItCenter> ref = context.getServiceReference(ItCenter.class);
        ItCenter itc = ref == null ? null : context.getService(ref);
        if (itc == null) {
            throw new IllegalStateException("the IT center is not running (feature ferry-itcenter)");
        }
        return itc;
    }

    String actor() {
        Object user = session == null ? null : session.get("USER");
        return "console:" + (user == null ? "unknown" : user);
    }
}
