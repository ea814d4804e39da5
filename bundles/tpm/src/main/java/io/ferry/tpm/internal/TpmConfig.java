package io.ferry.tpm.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.service.metatype.annotations.Option;

@ObjectClassDefinition(name = "Ferry TPM",
        description = "How this agent reaches its TPM 2.0 (PID io.ferry.tpm): swtpm over TCP in development "
                + "and tests, the kernel's resource manager /dev/tpmrm0 on a real device.")
public @interface TpmConfig {

    @AttributeDefinition(name = "Device", description = "swtpm: swtpm's TCP server (TPM simulator protocol); "
            + "device: a TPM character device.",
            options = { @Option(label = "swtpm over TCP", value = "swtpm"), @Option(label = "character device", value = "device") })
    String device() default "swtpm";

    @AttributeDefinition(name = "swtpm host", description = "Host of swtpm's --server type=tcp.")
    String swtpm_host() default "127.0.0.1";

    @AttributeDefinition(name = "swtpm port", description = "Port of swtpm's --server type=tcp (not the --ctrl port).")
    int swtpm_port() default 2321;

    @AttributeDefinition(name = "Device path", description = "The TPM character device when device=device.")
    String device_path() default "/dev/tpmrm0";

    @AttributeDefinition(name = "Timeout (ms)", description = "Connect and read timeout towards swtpm.")
    int timeout_ms() default 10000;
}
