package io.ferry.itcenter.internal;

import java.security.Security;

import org.osgi.annotation.bundle.Header;
import org.osgi.framework.BundleActivator;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;

/**
 * Installs the {@link AnyClientTrustProvider} as soon as the bundle starts, which the feature puts at a start
 * level below pax-web's (30): after a restart of the distribution pax-web starts its HTTPS connector from
 * the persisted {@code org.ops4j.pax.web} configuration, which names {@value AnyClientTrustProvider#ALGORITHM},
 * before the IT center's components are up. This activator needs nothing but the JDK, so it runs first.
 */
@Header(name = Constants.BUNDLE_ACTIVATOR, value = "${@class}")
public final class ProviderActivator implements BundleActivator {

    @Override
    public void start(BundleContext context) {
        HttpsEndpoint.installProvider();
    }

    @Override
    public void stop(BundleContext context) {
        Security.removeProvider(AnyClientTrustProvider.NAME);
    }
}
