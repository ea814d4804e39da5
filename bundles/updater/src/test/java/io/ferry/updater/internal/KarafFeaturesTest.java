package io.ferry.updater.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;

import org.apache.karaf.features.Feature;
import org.apache.karaf.features.FeatureState;
import org.apache.karaf.features.FeaturesService;
import org.junit.jupiter.api.Test;

/** The adapter against a FeaturesService stand-in (a dynamic proxy): what it calls, in which order. */
class KarafFeaturesTest {

    private final List<String> calls = new ArrayList<>();
    private boolean known = true;
    private boolean repositoryPresent;
    private FeatureState state = FeatureState.Started;

    private FeaturesService features() {
        Feature feature = (Feature) Proxy.newProxyInstance(Feature.class.getClassLoader(), new Class<?>[] {Feature.class},
                (p, m, a) -> switch (m.getName()) {
                    case "getId", "toString" -> "ferry-x/1.1";
                    case "getBundles" -> List.of();
                    default -> throw new UnsupportedOperationException(m.getName());
                });
        return (FeaturesService) Proxy.newProxyInstance(FeaturesService.class.getClassLoader(),
                new Class<?>[] {FeaturesService.class}, (p, m, a) -> {
                    calls.add(m.getName() + (a == null ? "" : " " + java.util.Arrays.deepToString(a)));
                    return switch (m.getName()) {
                        case "getRepository" -> repositoryPresent ? Proxy.newProxyInstance(
                                org.apache.karaf.features.Repository.class.getClassLoader(),
                                new Class<?>[] {org.apache.karaf.features.Repository.class}, (q, n, b) -> null) : null;
                        case "addRepository", "refreshRepository", "installFeature" -> null;
                        case "getFeature" -> known ? feature : null;
                        case "isInstalled" -> true;
                        case "getState" -> state;
                        default -> throw new UnsupportedOperationException(m.getName());
                    };
                });
    }

    @Test
    void addsTheRepositoryThenInstallsWithUpgrade() throws Exception {
        new KarafFeatures(features()).install("ferry-x", "1.1", "file:/r/features.xml");
        assertThat(calls).anySatisfy(c -> assertThat(c).startsWith("addRepository [file:/r/features.xml"));
        String install = "installFeature [ferry-x, 1.1, "
                + EnumSet.of(FeaturesService.Option.Upgrade, FeaturesService.Option.NoAutoRefreshBundles) + "]";
        assertThat(calls).contains(install);
        assertThat(calls.indexOf(install))
                .isGreaterThan(calls.indexOf("addRepository [file:/r/features.xml]"));
    }

    @Test
    void aKnownRepositoryIsRefreshedNotAddedAgain() throws Exception {
        repositoryPresent = true;
        new KarafFeatures(features()).install("ferry-x", "1.1", "file:/r/features.xml");
        assertThat(calls).noneSatisfy(c -> assertThat(c).startsWith("addRepository"));
        assertThat(calls).anySatisfy(c -> assertThat(c).startsWith("refreshRepository"));
    }

    @Test
    void anUnknownFeatureIsRefusedBeforeInstallingAnything() {
        known = false;
        assertThatThrownBy(() -> new KarafFeatures(features()).install("ferry-x", "1.1", null))
                .hasMessageContaining("no feature ferry-x/1.1");
        assertThat(calls).noneSatisfy(c -> assertThat(c).startsWith("installFeature"));
    }

    @Test
    void aFeatureThatDidNotStartIsAFailure() {
        state = FeatureState.Resolved;
        assertThatThrownBy(() -> new KarafFeatures(features()).install("ferry-x", "1.1", null))
                .hasMessageContaining("installed but Resolved");
    }
}
