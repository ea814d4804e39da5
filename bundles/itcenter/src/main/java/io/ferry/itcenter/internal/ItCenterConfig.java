package io.ferry.itcenter.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.AttributeType;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(name = "Ferry IT center",
        description = "The IT center's database, certificate authority and HTTPS endpoint (PID io.ferry.itcenter).")
public @interface ItCenterConfig {

    @AttributeDefinition(name = "Database URL",
            description = "JDBC URL of the registry: empty for the embedded H2 file ${karaf.data}/itcenter/registry, "
                    + "or jdbc:postgresql://host:port/database for a fleet.")
    String db_url() default "";

    @AttributeDefinition(name = "Database user", description = "PostgreSQL user; empty for H2.")
    String db_user() default "";

    @AttributeDefinition(name = "Database password", type = AttributeType.PASSWORD,
            description = "PostgreSQL password; empty for H2 or trust authentication.")
    String db_password() default "";

    @AttributeDefinition(name = "Database connections",
            description = "At most this many pooled connections (H2's pool, HikariCP for PostgreSQL); "
                    + "0 for a new connection per transaction.")
    int db_pool_size() default 16;

    @AttributeDefinition(name = "Root key store",
            description = "PKCS#12 file of the CA's root key and certificate; empty for ${karaf.data}/itcenter/ca/root.p12. "
                    + "Created on first start.")
    String ca_keystore() default "";

    @AttributeDefinition(name = "Root key passphrase file",
            description = "File holding the passphrase of the root key store; empty for ${karaf.data}/itcenter/ca/root.pass, "
                    + "made with a random passphrase (owner-only) on first start.")
    String ca_passphrase_file() default "";

    @AttributeDefinition(name = "Root certificate name", description = "The CN of the root certificate when it is made.")
    String ca_name() default "Ferry IT center root";

    @AttributeDefinition(name = "Agent certificate lifetime (hours)",
            description = "How long an agent certificate is valid; agents renew before it ends.")
    int certificate_lifetime_hours() default 24;

    @AttributeDefinition(name = "CRL validity (minutes)", description = "nextUpdate of each CRL served.")
    int crl_validity_minutes() default 60;

    @AttributeDefinition(name = "Manage HTTPS",
            description = "Whether the IT center configures Karaf's HTTP service (PID org.ops4j.pax.web): HTTPS only, "
                    + "with its own server certificate, asking for client certificates.")
    boolean https_manage() default true;

    @AttributeDefinition(name = "HTTPS address", description = "The address HTTPS listens on; loopback by default.")
    String https_address() default "127.0.0.1";

    @AttributeDefinition(name = "HTTPS port", description = "The port HTTPS listens on.")
    int https_port() default 8443;

    @AttributeDefinition(name = "Server host names",
            description = "Names and addresses written into the IT center's server certificate.")
    String[] https_hosts() default {"localhost", "127.0.0.1"};
}
