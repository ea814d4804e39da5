package io.ferry.api.policy;

import java.util.List;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The IT center's side of policies: it signs each VM's policy with its policy key when it publishes
 * the VM image ({@code itcenter:publish-vm}), and keeps the image and the signed policy in its
 * registry, from where agents fetch them. Every publication is in the audit log
 * ({@code policy.published}) in the same transaction. Refusals throw
 * {@link io.ferry.api.itcenter.ItCenterException} (INVALID, CONFLICT, UNAVAILABLE) or
 * {@link PolicyFormatException} for an invalid document, and change nothing.
 */
@ProviderType
public interface PolicyProvisioning {

    /**
     * Validates and signs a policy document and records the VM image with it.
     *
     * @param vmName      the VM's name; must be the document's {@code vm.name}
     * @param document    the policy document (YAML)
     * @param imageDigest the image's digest ({@code sha256:<64 hex>}) as measured from the image, which must
     *                    equal the document's {@code vm.image-digest}; null to take the document's
     * @param actor       who publishes, for the audit log
     * @return the published VM with its signed policy; publishing the newest document again returns it
     *         unchanged
     * @throws io.ferry.api.itcenter.ItCenterException CONFLICT when the version is not above the one
     *         published (unless it is the same document), or the name belongs to another VM
     */
    PublishedVm publish(String vmName, String document, String imageDigest, String actor);

    /** Every published VM, by name. */
    List<PublishedVm> vms();

    /** One published VM by name or UUID. */
    Optional<PublishedVm> vm(String nameOrUuid);

    /** The policy-signing public key, a PEM {@code PUBLIC KEY} (EC P-256): agents' {@code itcenter.key.file}. */
    String policyKeyPem();

    /** The RFC 7638 thumbprint of the policy-signing key (the JWS {@code kid}). */
    String policyKeyId();
}
