package io.ferry.policy.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(name = "Ferry policy service",
        description = "The VM migration policies this agent holds, signed by its IT center (PID io.ferry.policy).")
public @interface PolicyServiceConfig {

    @AttributeDefinition(name = "IT center policy key file", description = "The IT center's policy-signing public "
            + "key, a PEM 'PUBLIC KEY' file (EC P-256). Ignored when the PEM is given inline. Until it is there, "
            + "the service starts but imports nothing and denies every migration, saying why.")
    String itcenter_key_file() default "etc/ferry-policy-key.pem";

    @AttributeDefinition(name = "IT center policy key PEM", description = "The policy-signing public key inline (PEM), "
            + "instead of the file.")
    String itcenter_key_pem() default "";

    @AttributeDefinition(name = "Security levels", description = "The security levels attestation assigns, lowest "
            + "first, comma separated: the verifier's ordering (its AppraisalPolicy levels). A policy may only name "
            + "these; a device reaches a minimum at that level or above.")
    String security_levels() default "untrusted, measured, trusted";
}
