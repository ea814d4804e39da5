package io.ferry.itcenter.tls.internal;

import java.security.Provider;
import java.security.Security;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

import javax.servlet.Servlet;

import org.osgi.annotation.bundle.Header;
import org.osgi.framework.BundleActivator;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.ServiceRegistration;
import org.osgi.util.tracker.ServiceTracker;

/**
 * Installs {@link AnyClientTrustProvider} in the JVM's security providers when the bundle starts and
 * removes it when it stops. A plain activator, not a DS component: it must have run when the bundle's
 * start returns, before pax-web (start level 30) starts its HTTPS connector, whatever start level
 * Felix SCR has. Also registers {@link UnavailableServlet}, the 503 answer while the REST API is not
 * registered (the HTTP whiteboard picks it up whenever it starts). The moments before any whiteboard exists,
 * and the JAX-RS whiteboard's own HTML 404 before the IT center's resources are there, are left to agents: they
 * read a 404 that is not a problem document as "unavailable" (HttpsClient in bundles/enrolment).
 *
 * <p>Routes rebuilt once the API is there ({@link #refreshRoutes}): Jetty (through pax-web) caches the route of
 * each request path, and a request that arrives while the JAX-RS whiteboard's {@code /*} servlet is being added
 * can cache the route to this 503 servlet after the addition cleared the cache. That path then answered 503
 * "starting or stopping" for good while every other path worked (seen: {@code GET /api/v1/ca} 503 for minutes
 * after a restart, {@code /api/v1/ca/} 200; the "flap after it answered" of the restart campaign). So a few
 * seconds after the JAX-RS servlet appeared, when no request routed before its addition can still be in
 * flight, this servlet is registered anew (twice, see {@link #SETTLE_MILLIS}): pax-web rebuilds the mappings and
 * Jetty drops every cached route.
 */
@Header(name = Constants.BUNDLE_ACTIVATOR, value = "${@class}")
public final class TlsActivator implements BundleActivator {

    static final String NAME = "ferry-itcenter-unavailable";
    /**
     * The JAX-RS whiteboard's servlet (Aries registers it as a whiteboard servlet on {@code /*}). The {@code *} is
     * escaped: unescaped it is a wildcard, which matched this bundle's own {@code /} and made every rebuild
     * trigger the next.
     */
    static final String API_SERVLET = "(&(objectClass=javax.servlet.Servlet)(osgi.http.whiteboard.servlet.pattern=/\\*)"
            + "(!(osgi.http.whiteboard.servlet.name=" + NAME + ")))";
    /**
     * When, after the API's servlet service appeared, the routes are rebuilt: far longer than a request takes to
     * route, and once more in case pax-web (which adds the servlet to Jetty on a thread of its own) lagged behind
     * on a loaded machine. Each rebuild is cheap and, with {@code /*} there, cannot route anything wrongly.
     */
    static final long[] SETTLE_MILLIS = { 3_000, 20_000 };
    private static final Logger LOG = Logger.getLogger(TlsActivator.class.getName());

    private Provider installed;
    private ServiceRegistration<Servlet> unavailable;
    private ServiceTracker<Servlet, ServiceReference<Servlet>> api;
    private ScheduledExecutorService scheduler;
    private BundleContext context;

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
            synchronized (this) {
                this.context = context;
                unavailable = registerUnavailable(context);
            }
            scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "ferry-itcenter-routes");
                t.setDaemon(true);
                return t;
            });
            try {
                api = new ServiceTracker<>(context, context.createFilter(API_SERVLET), null) {
                    @Override
                    public ServiceReference<Servlet> addingService(ServiceReference<Servlet> reference) {
                        for (long delay : SETTLE_MILLIS) {
                            scheduler.schedule(TlsActivator.this::refreshRoutes, delay, TimeUnit.MILLISECONDS);
                        }
                        return reference; // never getService: the whiteboard's servlet is not ours to instantiate
                    }
                };
            } catch (InvalidSyntaxException e) {
                throw new IllegalStateException(e);
            }
            api.open();
        }
    }

    private static ServiceRegistration<Servlet> registerUnavailable(BundleContext context) {
        Dictionary<String, Object> props = new Hashtable<>();
        props.put("osgi.http.whiteboard.servlet.pattern", "/");
        props.put("osgi.http.whiteboard.servlet.name", NAME);
        props.put("osgi.http.whiteboard.context.select", "(osgi.http.whiteboard.context.name=default)");
        props.put(Constants.SERVICE_RANKING, Integer.MIN_VALUE);
        return context.registerService(Servlet.class, new UnavailableServlet(), props);
    }

    /**
     * Registers the 503 servlet anew (see the class comment): the old registration first, so that pax-web
     * removes one servlet and adds one, each a rebuild of the mappings that clears Jetty's cached routes. The
     * JAX-RS servlet's {@code /*} covers every path meanwhile, so no request meets the gap.
     */
    synchronized void refreshRoutes() {
        if (context == null || unavailable == null) {
            return; // stopped meanwhile
        }
        try {
            unavailable.unregister();
        } catch (IllegalStateException e) {
            // unregistered meanwhile (the bundle stopping)
        }
        unavailable = registerUnavailable(context);
        LOG.info("IT center routes rebuilt after the JAX-RS whiteboard's servlet appeared (no path keeps a stale "
                + "route to the 503 answer)");
    }

    @Override
    public void stop(BundleContext context) {
        if (api != null) {
            api.close();
            api = null;
        }
        if (scheduler != null) {
            scheduler.shutdownNow();
            scheduler = null;
        }
        synchronized (this) {
            this.context = null;
            if (unavailable != null) {
                try {
                    unavailable.unregister();
                } catch (IllegalStateException e) {
                    // gone with the bundle already
                }
                unavailable = null;
            }
        }
        if (installed != null && Security.getProvider(AnyClientTrustProvider.NAME) == installed) {
            Security.removeProvider(AnyClientTrustProvider.NAME);
        }
        installed = null;
    }
}
