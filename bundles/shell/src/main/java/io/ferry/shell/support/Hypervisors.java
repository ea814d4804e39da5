package io.ferry.shell.support;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;

import io.ferry.api.hypervisor.Hypervisor;

/**
 * Finds Hypervisor services by host name, per call: the shell's own references are static, and a
 * command that kept one would stay on a stale service after a hot update.
 */
public final class Hypervisors {

    /** The host a command uses when none is given. */
    public static final String DEFAULT_HOST = "local";

    private final BundleContext context;

    public Hypervisors(BundleContext context) {
        this.context = context;
    }

    /**
     * The hypervisor of that host; with no host given, the one named {@value #DEFAULT_HOST}, or the
     * only one there is.
     */
    public Hypervisor get(String host) {
        List<ServiceReference<Hypervisor>> refs = references();
        if (refs.isEmpty()) {
            throw new IllegalStateException("no hypervisor is configured (factory PID io.ferry.hypervisor)");
        }
        String wanted = host != null ? host : DEFAULT_HOST;
        for (ServiceReference<Hypervisor> ref : refs) {
            if (wanted.equals(ref.getProperty(Hypervisor.HOST_PROPERTY))) {
                return context.getService(ref);
            }
        }
        if (host == null && refs.size() == 1) {
            return context.getService(refs.get(0));
        }
        throw new IllegalArgumentException("no hypervisor host named '" + wanted + "'; known hosts: " + hostNames());
    }

    public List<String> hostNames() {
        List<String> names = new ArrayList<>();
        for (ServiceReference<Hypervisor> ref : references()) {
            names.add(String.valueOf(ref.getProperty(Hypervisor.HOST_PROPERTY)));
        }
        names.sort(null);
        return names;
    }

    private List<ServiceReference<Hypervisor>> references() {
        try {
            Collection<ServiceReference<Hypervisor>> refs = context.getServiceReferences(Hypervisor.class, null);
            return new ArrayList<>(refs);
        } catch (InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
