package io.ferry.itcenter.vms;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(name = "Ferry IT center: VM images and policies",
        description = "Publishing VM images with their signed migration policies (PID io.ferry.itcenter.vms).")
public @interface VmsConfig {

    @AttributeDefinition(name = "Policy key store", description = "PKCS#12 file of the policy-signing key (EC P-256); "
            + "empty for ${karaf.data}/itcenter/policy/policy-key.p12. Made on first start, owner-only, with a random "
            + "passphrase in the file beside it (policy-key.pass).")
    String policy_key_store() default "";

    @AttributeDefinition(name = "Policy public key file", description = "Where the public half is written as a PEM "
            + "PUBLIC KEY on every start: the file agents install as etc/ferry-policy-key.pem. Empty for "
            + "${karaf.data}/itcenter/policy/policy-key.pem.")
    String policy_public_key_file() default "";

    @AttributeDefinition(name = "Security levels", description = "The levels a policy may name, lowest first, comma "
            + "separated: the same as the agents' io.ferry.policy security.levels (the verifier's ordering).")
    String security_levels() default "untrusted, measured, trusted";
}
