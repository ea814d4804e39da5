package io.ferry.seal.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(name = "Ferry seal storage",
        description = "Secrets sealed to the platform's approved state (PID io.ferry.seal).")
public @interface SealStorageConfig {

    @AttributeDefinition(name = "Storage folder", description = "Where the sealed KEK, the approval and the blobs live.")
    String storage_dir() default "data/ferry/seal";

    @AttributeDefinition(name = "Approval key file", description = "The IT center's approval public key, "
            + "a PEM 'PUBLIC KEY' (EC P-256 or RSA) file. Ignored when the PEM is given inline.")
    String approval_key_file() default "etc/ferry-approval-key.pem";

    @AttributeDefinition(name = "Approval key PEM", description = "The approval public key inline (PEM), instead of the file.")
    String approval_key_pem() default "";

    @AttributeDefinition(name = "Measurement PCR", description = "The PCR Ferry measures the hypervisor components into.")
    int measurement_pcr() default 23;

    @AttributeDefinition(name = "Boot PCRs", description = "PCRs of the boot chain to include in the policy "
            + "(on a real TPM, e.g. 0,2,4,7); empty with swtpm.")
    int[] boot_pcrs() default {};

    @AttributeDefinition(name = "Counter NV index", description = "The TPM NV counter holding the newest approval "
            + "version seen (hex, owner range 0x01800000-0x01bfffff).")
    String counter_index() default "0x01800100";
}
