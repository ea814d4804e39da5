package io.ferry.itcenter.tls.internal;

import java.security.Provider;
import java.security.Security;
import java.util.Dictionary;
import java.util.Hashtable;

import javax.servlet.Servlet;

import org.osgi.annotation.bundle.Header;
import org.osgi.framework.BundleActivator;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceRegistration;

/**
 * Installs {@link AnyClientTrustProvider} in the JVM's security providers when the bundle starts and
 * removes it when it stops. A plain activator, not a DS component: it must have run when the bundle's
 * start returns, before pax-web (start level 30) starts its HTTPS connector, whatever start level
 * Felix SCR has. Also registers {@link UnavailableServlet}, the 503 answer while the REST API is not
 * registered (the HTTP whiteboard picks it up whenever it starts). The moments before any whiteboard exists,
 * and the JAX-RS whiteboard's own HTML 404 before the IT center's resources are there, are left to agents: they
 * read a 404 that is not a problem document as "unavailable" (HttpsClient in bundles/enrolment).
 */
@Header(name = Constants.BUNDLE_ACTIVATOR, value = "${@class}")
public final class TlsActivator implements BundleActivator {

    private Provider installed;
    private ServiceRegistration<Servlet> unavailable;

    @Override
    public void start(BundleContext context) {
        Provider existing = Security.getProvider(AnyClientTrustProvider.NAME);
        if (existing != null) {
            // another copy of this bundle (an update mid-way): ours replaces it, so that no class of an
            // uninstalled bundle stays in the JVM's provider list
            Security.removeProvider(AnyClientTrustProvider.NAME);
        }
        installed = new AnyClientTrustProvider();
        Security.addProvider(installed);
        if (context != null) {
            Dictionary<String, Object> props = new Hashtable<>();
            props.put("osgi.http.whiteboard.servlet.pattern", "/");
            props.put("osgi.http.whiteboard.servlet.name", "ferry-itcenter-unavailable");
            props.put("osgi.http.whiteboard.context.select", "(osgi.http.whiteboard.context.name=default)");
            props.put(Constants.SERVICE_RANKING, Integer.MIN_VALUE);
            unavailable = context.registerService(Servlet.class, new UnavailableServlet(), props);
        }
    }

    @Override
    public void stop(BundleContext context) {
        if (unavailable != null) {
            unavailable.unregister();
            unavailable = null;
        }
        if (installed != null && Security.getProvider(AnyClientTrustProvider.NAME) == installed) {
            Security.removeProvider(AnyClientTrustProvider.NAME);
        }
        installed = null;
    }
}
