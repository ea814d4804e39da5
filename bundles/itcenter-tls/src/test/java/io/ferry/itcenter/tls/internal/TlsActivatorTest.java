package io.ferry.itcenter.tls.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Proxy;
import java.security.Security;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Filter;
import org.osgi.framework.FrameworkUtil;
import org.osgi.framework.ServiceRegistration;

/** The filter that tells when the JAX-RS whiteboard's servlet is there (and the routes are to be rebuilt). */
class TlsActivatorTest {

    private static Dictionary<String, Object> servlet(String name, Object pattern) {
        Dictionary<String, Object> d = new Hashtable<>();
        d.put("objectClass", new String[] { "javax.servlet.Servlet" });
        d.put("osgi.http.whiteboard.servlet.name", name);
        d.put("osgi.http.whiteboard.servlet.pattern", pattern);
        return d;
    }

    @Test
    void matchesTheJaxRsWhiteboardsServletOnly() throws Exception {
        Filter f = FrameworkUtil.createFilter(TlsActivator.API_SERVLET);
        assertThat(f.match(servlet("cxf-servlet", "/*"))).isTrue();
        assertThat(f.match(servlet("cxf-servlet", new String[] { "/*" }))).isTrue();
        // its own 503 servlet on "/": matching it made every rebuild trigger the next one
        assertThat(f.match(servlet(TlsActivator.NAME, "/"))).isFalse();
        assertThat(f.match(servlet(TlsActivator.NAME, "/*"))).isFalse();
        assertThat(f.match(servlet("other", "/"))).isFalse();
        assertThat(f.match(servlet("other", "/api/*"))).isFalse();
        Dictionary<String, Object> notAServlet = servlet("cxf-servlet", "/*");
        notAServlet.put("objectClass", new String[] { "javax.servlet.Filter" });
        assertThat(f.match(notAServlet)).isFalse();
    }

    /** One registration the stand-in context handed out: its properties and whether it was unregistered. */
    private static final class Registration {
        final Dictionary<String, ?> props;
        boolean unregistered;

        Registration(Dictionary<String, ?> props) {
            this.props = props;
        }
    }

    /** A BundleContext stand-in (a unit test: no framework) that records servlet registrations. */
    private static BundleContext context(List<Registration> registrations) {
        return (BundleContext) Proxy.newProxyInstance(TlsActivatorTest.class.getClassLoader(),
                new Class<?>[] { BundleContext.class }, (proxy, method, args) -> {
                    switch (method.getName()) {
                        case "registerService": {
                            Registration r = new Registration((Dictionary<String, ?>) args[2]);
                            registrations.add(r);
                            return Proxy.newProxyInstance(TlsActivatorTest.class.getClassLoader(),
                                    new Class<?>[] { ServiceRegistration.class }, (p, m, a) -> {
                                        if (m.getName().equals("unregister")) {
                                            if (r.unregistered) {
                                                throw new IllegalStateException("unregistered twice");
                                            }
                                            r.unregistered = true;
                                        }
                                        return null;
                                    });
                        }
                        case "createFilter":
                            return FrameworkUtil.createFilter((String) args[0]);
                        case "getServiceReferences":
                        case "getAllServiceReferences":
                            return null;
                        default:
                            return null; // addServiceListener, removeServiceListener
                    }
                });
    }

    @Test
    void rebuildingTheRoutesRegistersTheSameServletAnewAndNothingOnceStopped() {
        List<Registration> regs = new ArrayList<>();
        TlsActivator activator = new TlsActivator();
        BundleContext ctx = context(regs);
        try {
            activator.start(ctx);
            assertThat(regs).hasSize(1);
            assertThat(regs.get(0).props.get("osgi.http.whiteboard.servlet.pattern")).isEqualTo("/");
            assertThat(regs.get(0).props.get("osgi.http.whiteboard.servlet.name")).isEqualTo(TlsActivator.NAME);

            activator.refreshRoutes();
            assertThat(regs).hasSize(2);
            assertThat(regs.get(0).unregistered).isTrue();
            assertThat(regs.get(1).unregistered).isFalse();
            assertThat(regs.get(1).props.get("osgi.http.whiteboard.servlet.pattern")).isEqualTo("/");
            assertThat(regs.get(1).props.get("osgi.http.whiteboard.servlet.name")).isEqualTo(TlsActivator.NAME);
        } finally {
            activator.stop(ctx);
        }
        assertThat(regs.get(1).unregistered).isTrue();
        // a rebuild scheduled before the stop and running after it registers nothing
        activator.refreshRoutes();
        assertThat(regs).hasSize(2);
        assertThat(Security.getProvider(AnyClientTrustProvider.NAME)).isNull();
    }
}
