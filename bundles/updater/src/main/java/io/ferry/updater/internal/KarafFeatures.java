package io.ferry.updater.internal;

import java.net.URI;
import java.util.EnumSet;
import java.util.stream.Collectors;

import org.apache.karaf.features.Feature;
import org.apache.karaf.features.FeatureState;
import org.apache.karaf.features.FeaturesService;

/**
 * {@code feature:repo-add} and {@code feature:install -u} through the FeaturesService: the new
 * version replaces the old (a bundle of the same symbolic name is updated in place) and no other
 * bundle is refreshed. An update that changes an exported API package needs a refresh of its
 * consumers, which restarts them: such an update is not a hot update and is not pushed this way.
 */
final class KarafFeatures implements FeatureInstaller {

    private final FeaturesService features;

    KarafFeatures(FeaturesService features) {
        this.features = features;
    }

    @Override
    public void install(String feature, String version, String repository) throws Exception {
        if (repository != null && !repository.isBlank()) {
            URI uri = URI.create(repository);
            if (features.getRepository(uri) == null) {
                features.addRepository(uri);
            } else {
                features.refreshRepository(uri);
            }
        }
        Feature f = features.getFeature(feature, version);
        if (f == null) {
            throw new IllegalArgumentException("no feature " + feature + "/" + version + " in the repositories "
                    + (repository == null ? "this agent has" : "(" + repository + ")"));
        }
        // no refresh: Karaf's resolver otherwise refreshes (stops and starts) bundles that merely could be wired
        // anew, e.g. the hypervisor bundle in the middle of a migration (seen in HotUpdateIT). An updated bundle
        // that exports nothing others use needs no refresh: its new revision is in use at once.
        features.installFeature(feature, version,
                EnumSet.of(FeaturesService.Option.Upgrade, FeaturesService.Option.NoAutoRefreshBundles));
        if (!features.isInstalled(f)) {
            throw new IllegalStateException(feature + "/" + version + " is not installed after the upgrade");
        }
        FeatureState state = features.getState(f.getId());
        if (state != FeatureState.Started) {
            throw new IllegalStateException(feature + "/" + version + " is installed but " + state);
        }
    }

    @Override
    public String describe(String feature, String version) throws Exception {
        Feature f = features.getFeature(feature, version);
        return f == null ? "" : f.getBundles().stream().map(b -> b.getLocation()).collect(Collectors.joining(", "));
    }
}
