package io.ferry.itcenter.internal;

import java.nio.file.Path;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;

/**
 * Opens the IT center's database from its configuration and offers it as the {@link Store}
 * service that every area of the IT center (the registry in {@link ItCenterService}, enrolment,
 * attestation, leases, ...) builds on. A component of its own, so that no area's activation
 * waits on another's: each depends on the store, none on the order they start in.
 */
@Component(service = {}, immediate = true, configurationPid = "io.ferry.itcenter",
        configurationPolicy = ConfigurationPolicy.OPTIONAL)
public final class Database {

    private final Store store;
    private final ServiceRegistration<Store> registration;

    @Activate
    public Database(ItCenterConfig config, BundleContext context) {
        String url = config.db_url().isBlank() ? "jdbc:h2:file:" + home().resolve("registry") : config.db_url();
        // migrations from this bundle's entries: at a restart this runs before Flyway's bundle is started
        this.store = Store.open(url, config.db_user(), config.db_password(), config.db_pool_size(),
                context.getBundle());
        this.registration = context.registerService(Store.class, store, null);
    }

    /** The IT center's folder under the distribution's data folder. */
    static Path home() {
        return Path.of(System.getProperty("karaf.data", "data"), "itcenter").toAbsolutePath();
    }

    @Deactivate
    void close() {
        registration.unregister();
        store.close();
    }
}
