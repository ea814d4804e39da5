package io.ferry.itcenter.approvals;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(name = "Ferry IT center seal approvals",
        description = "The key with which the IT center approves platform states for agents' seal storage.")
public @interface ApprovalConfig {

    @AttributeDefinition(name = "Key file",
            description = "The approval private key (PKCS#8 PEM, EC P-256), made on first start; empty for "
                    + "${karaf.data}/itcenter/approval/key.pem.")
    String key_file() default "";

    @AttributeDefinition(name = "Level", description = "The security level an agent's latest attestation must "
            + "reach before the IT center approves the PCR values it quoted.")
    String level() default "trusted";

    @AttributeDefinition(name = "Maximum age (minutes)",
            description = "How recent that attestation must be.")
    int max_age_minutes() default 10;
}
