package io.ferry.api.itcenter;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The IT center's features repository: a Maven-layout repository served over its HTTPS at
 * {@code /repository/}, from which agents install and upgrade features. Publishing copies a
 * features repository with every bundle its features list (or a single bundle) into it and
 * records, in the same transaction as an {@code update.published} audit event, the reference
 * value of each bundle (its symbolic name, version and the SHA-256 the agent's measurement
 * computes) under the release name {@code feature/version}.
 */
@ProviderType
public interface ReleaseRepository {

    /**
     * Publishes a features repository (with all its bundles) or a bundle.
     *
     * @param location    {@code mvn:group/artifact/version[/type[/classifier]]}, resolved from the IT center's own
     *                    Maven repositories, or a file (path or {@code file:} URL)
     * @param coordinates for a file, the {@code mvn:} coordinates to publish it under; {@code null} for a
     *                    {@code mvn:} location
     * @param actor       who asked, for the audit log
     * @throws ItCenterException INVALID for bad input, CONFLICT when a released (non-SNAPSHOT) artifact would
     *                           change, UNAVAILABLE when an artifact cannot be read or written; nothing is
     *                           published then
     */
    Publication publish(String location, String coordinates, String actor);

    /** The published feature versions, by feature and version. */
    List<Release> releases();
}
