package io.ferry.api.policy;

import java.time.Instant;
import java.util.Objects;

/**
 * A VM image the IT center published, with the signed policy it is provisioned with.
 *
 * @param name        the VM's name (libvirt domain name), unique in the registry
 * @param uuid        the VM's UUID, lower case
 * @param imageDigest the image's digest, {@code sha256:<64 hex>}
 * @param owner       the policy's owner
 * @param version     the version of the newest policy published for it
 * @param keyId       the RFC 7638 thumbprint of the key that signed that policy
 * @param publishedAt when that policy was published
 * @param publishedBy who published it ({@code console:<user>}, ...)
 * @param jws         the signed policy (JWS compact form): the file that ships with the image
 */
public record PublishedVm(String name, String uuid, String imageDigest, String owner, long version, String keyId,
        Instant publishedAt, String publishedBy, String jws) {

    public PublishedVm {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(uuid, "uuid");
        Objects.requireNonNull(jws, "jws");
    }
}
