package io.ferry.api.itcenter;

import java.util.List;

import io.ferry.api.attestation.ReferenceValue;

/**
 * What one publication put into the IT center's features repository.
 *
 * @param location        what was published: a features repository or a bundle, as {@code mvn:} coordinates
 * @param releases        the features it published (empty for a bundle alone)
 * @param artifacts       the repository paths written (Maven layout), the features XML first
 * @param referenceValues the reference values recorded for its bundles
 * @param notes           what was left out and why (nested repositories, wrapped bundles' measurements)
 */
public record Publication(String location, List<Release> releases, List<String> artifacts,
        List<ReferenceValue> referenceValues, List<String> notes) {
}
