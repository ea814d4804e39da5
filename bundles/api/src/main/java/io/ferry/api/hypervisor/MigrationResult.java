package io.ferry.api.hypervisor;

/**
 * The outcome of a finished live migration.
 *
 * @param domain      the domain name
 * @param targetUri   the libvirt URI of the host it now runs on
 * @param wallMillis  wall-clock time of the whole call, as the caller saw it
 * @param stats       libvirt's statistics of the completed job
 */
public record MigrationResult(String domain, String targetUri, long wallMillis, JobStats stats) {
}
