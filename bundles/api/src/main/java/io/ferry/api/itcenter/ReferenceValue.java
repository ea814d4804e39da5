package io.ferry.api.itcenter;

import java.time.Instant;

/**
 * The expected measurement of one published component.
 *
 * @param component   the component's name, e.g. a bundle's symbolic name or {@code qemu-system-x86_64}
 * @param version     its version
 * @param sha256      the SHA-256 of its content, lower-case hex
 * @param release     the release that published it
 * @param publishedAt when it was published
 */
public record ReferenceValue(String component, String version, String sha256, String release, Instant publishedAt) {
}
