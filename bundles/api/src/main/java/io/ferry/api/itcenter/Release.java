package io.ferry.api.itcenter;

import java.time.Instant;

/**
 * A feature version published in the IT center's features repository.
 *
 * @param feature     the feature's name
 * @param version     the feature's version
 * @param repository  the features repository that holds it, as agents add it ({@code mvn:g/a/v/xml/features})
 * @param publishedAt when it was (last) published
 * @param actor       who published it
 */
public record Release(String feature, String version, String repository, Instant publishedAt, String actor) {

    /** The release name reference values carry: {@code feature/version}. */
    public String name() {
        return feature + "/" + version;
    }
}
