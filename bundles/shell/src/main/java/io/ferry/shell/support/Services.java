package io.ferry.shell.support;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;

/**
 * Looks a service up per call, for services that may be swapped at run time (the shell's own
 * {@code @Reference} is static and would keep a stale one after a hot update). The service is not
 * released after the call: a delayed component would otherwise be deactivated after every command.
 */
public final class Services {

    private Services() {
    }

    /**
     * The highest-ranked service of that type.
     *
     * @param missing the message when there is none (which feature or configuration provides it)
     */
    public static <T> T get(BundleContext context, Class<T> type, String missing) {
        ServiceReference<T> ref = context.getServiceReference(type);
        if (ref == null) {
            throw new IllegalStateException(missing);
        }
        T service = context.getService(ref);
        if (service == null) {
            throw new IllegalStateException("the " + type.getSimpleName()
                    + " service failed to start; log:display shows why");
        }
        return service;
    }
}
