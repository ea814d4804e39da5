package io.ferry.api.policy;

import java.util.Objects;

/**
 * The VM a policy is for.
 *
 * @param name        the libvirt domain name
 * @param uuid        the libvirt domain UUID, lower case (the key policies are stored and found by)
 * @param imageDigest the digest of the VM image the policy was provisioned with, {@code sha256:<64 hex>}
 */
public record VmIdentity(String name, String uuid, String imageDigest) {

    public VmIdentity {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(uuid, "uuid");
        Objects.requireNonNull(imageDigest, "imageDigest");
    }
}
