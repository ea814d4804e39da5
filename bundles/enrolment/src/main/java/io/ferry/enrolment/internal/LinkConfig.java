package io.ferry.enrolment.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(name = "Ferry IT center link (agent)",
        description = "How the agent reaches its IT center: JSON over HTTPS (TLS 1.3) with its enrolled key and "
                + "certificate, the IT center's root as the only trust anchor (PID io.ferry.itcenter.link).")
public @interface LinkConfig {

    @AttributeDefinition(name = "IT center URL", description = "e.g. https://itcenter.example:8443/ ; empty to use "
            + "the URL given at enrolment (agent:enrol). Set it when the IT center moved.")
    String url() default "";

    @AttributeDefinition(name = "Root certificate file", description = "The IT center's root certificate (PEM or DER) "
            + "to pin at enrolment when agent:enrol is given no fingerprint; empty for none.")
    String root_certificate() default "";

    @AttributeDefinition(name = "Root SHA-256", description = "SHA-256 fingerprint of the IT center's root "
            + "certificate to pin at enrolment (hex, colons allowed); used when there is no root certificate file.")
    String root_sha256() default "";

    @AttributeDefinition(name = "Connect timeout (seconds)", description = "How long to wait for a TCP and TLS connection.")
    int connect_timeout_seconds() default 10;

    @AttributeDefinition(name = "Retries", description = "How many more times an idempotent request (GET, lease "
            + "acquire/renew) is tried when the connection cannot be made or the IT center answers 503 or a bare 404 "
            + "(exponential backoff, never past the caller's deadline; other requests are not retried).")
    int retries() default 3;

    @AttributeDefinition(name = "Retry delay (ms)", description = "The pause between two attempts of a GET.")
    int retry_delay_ms() default 500;

    @AttributeDefinition(name = "Renew after (fraction of lifetime)", description = "The certificate is renewed once "
            + "this fraction of its validity has passed (0.1 to 0.9).")
    double renew_fraction() default 0.66;

    @AttributeDefinition(name = "Check period (minutes)", description = "How often the certificate's age is checked "
            + "(and a stored identity loaded, if seal storage could not unseal it before).")
    int check_minutes() default 10;
}
