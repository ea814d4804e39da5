package io.ferry.api.attestation;

import java.util.List;

/**
 * What the IT center tells an agent to install so that its next attestation reaches the level it asked
 * for: features of the IT center's features repository at the versions it published (the agent installs
 * them as {@code feature:install -u} does, measures and attests again).
 *
 * @param features the features to install or upgrade, one per failing or unknown component that a
 *        published release contains
 * @param unresolved what no feature can fix, one sentence each (a binary to update by other means, a
 *        component no release contains, evidence that is not genuine)
 * @param repository the features repository to add before installing (a URI), or null when the agent has it
 */
public record Remediation(List<FeatureUpdate> features, List<String> unresolved, String repository) {

    /** Nothing to do. */
    public static final Remediation NONE = new Remediation(List.of(), List.of(), null);

    public Remediation {
        features = List.copyOf(features);
        unresolved = List.copyOf(unresolved);
    }

    /** Whether the agent can do anything about it. */
    public boolean actionable() {
        return !features.isEmpty();
    }

    /**
     * One feature to install at one version.
     *
     * @param component the component (bundle symbolic name) it brings at a published digest
     * @param feature the feature's name, e.g. {@code ferry-policy}
     * @param version the feature's version
     * @param release the release that published it, or null
     */
    public record FeatureUpdate(String component, String feature, String version, String release) {

        public FeatureUpdate {
            Checks.token("a remediation's component", component);
            Checks.token("a remediation's feature", feature);
            Checks.token("a remediation's version", version);
            if (release != null) {
                Checks.token("a remediation's release", release);
            }
        }

        @Override
        public String toString() {
            return feature + "/" + version + " (" + component + (release == null ? "" : ", release " + release) + ")";
        }
    }
}
