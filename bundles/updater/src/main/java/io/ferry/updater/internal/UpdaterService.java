package io.ferry.updater.internal;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.apache.karaf.features.BootFinished;
import org.apache.karaf.features.FeaturesService;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.ferry.api.itcenter.ItCenterLink;
import io.ferry.api.updates.ApprovalRenewal;

/**
 * The agent's updater: polls the IT center for pushed updates through the IT center link and
 * installs them. It lives in its own bundle so that an update of any other bundle leaves it
 * running; the link is a dynamic greedy reference, so a new link implementation is picked up too.
 */
@Component(service = UpdaterService.class, configurationPid = "io.ferry.updater", immediate = true)
@Designate(ocd = UpdaterConfig.class)
public final class UpdaterService {

    private static final Logger LOG = LoggerFactory.getLogger(UpdaterService.class);

    private final Updater updater;
    private final ScheduledExecutorService poller;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile ItCenterLink link;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile ApprovalRenewal renewal;

    /**
     * Karaf registers this once the boot features are provisioned. Installing while they still
     * are would run two provisioning jobs at once, and one overwrites the other's saved state
     * (an upgraded bundle then stays next to the old one), so polls wait for it. Optional: a
     * mandatory service reference would be a resolution requirement nothing declares.
     */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    volatile BootFinished bootFinished;

    @Activate
    public UpdaterService(@Reference FeaturesService features, UpdaterConfig config) {
        this.updater = new Updater(() -> link, new KarafFeatures(features), List.of(config.allowed_features()),
                Duration.ofSeconds(Math.max(1, config.request_timeout_seconds())), Clock.systemUTC(),
                config.renew_approval() ? () -> renewal : null);
        this.poller = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "ferry-updater");
            t.setDaemon(true);
            return t;
        });
        int every = Math.max(1, config.poll_seconds());
        poller.scheduleWithFixedDelay(this::pollNow, 2, every, TimeUnit.SECONDS);
        LOG.info("Updater active: polling the IT center every {} s", every);
    }

    /** Polls now (also what the schedule runs); returns how many updates were applied. */
    public int pollNow() {
        if (bootFinished == null) {
            LOG.debug("Update poll skipped: Karaf is still provisioning its boot features");
            return 0;
        }
        try {
            return updater.poll();
        } catch (RuntimeException e) {
            LOG.warn("Update poll failed: {}", e.toString(), e);
            return 0;
        }
    }

    /** The updates seen since this component started, as {@code id feature/version phase detail}. */
    public List<String> history() {
        return updater.tracks().stream().map(t -> t.update().id() + " " + t.update().feature() + "/"
                + t.update().version() + " " + t.phase() + (t.detail() == null ? "" : " " + t.detail())).toList();
    }

    @Deactivate
    void deactivate() {
        poller.shutdownNow();
    }
}
