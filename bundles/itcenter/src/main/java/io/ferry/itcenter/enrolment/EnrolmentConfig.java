package io.ferry.itcenter.enrolment;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(name = "Ferry IT center enrolment",
        description = "Attested enrolment of agents: which TPM vendors are trusted, how long invitations and "
                + "challenges last (PID io.ferry.itcenter.enrolment).")
public @interface EnrolmentConfig {

    @AttributeDefinition(name = "TPM vendor CA folder", description = "Every certificate (*.pem, *.crt, *.cer, *.der) "
            + "in this folder is a trust anchor for EK certificates; empty for ${karaf.etc}/ferry-ek-ca. "
            + "With no certificate there, every enrolment is refused.")
    String ek_ca_dir() default "";

    @AttributeDefinition(name = "Challenge lifetime (seconds)",
            description = "How long the agent has to answer a MakeCredential challenge.")
    int challenge_seconds() default 120;

    @AttributeDefinition(name = "Default invitation validity (hours)",
            description = "How long an invitation's token may be used when itcenter:invite is given no validity.")
    int invitation_hours() default 72;
}
