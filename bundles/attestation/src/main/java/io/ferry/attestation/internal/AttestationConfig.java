package io.ferry.attestation.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(name = "Ferry attestation (agent)",
        description = "What the agent measures into which PCR, where the measurement log lives, and which PCRs "
                + "a quote covers (PID io.ferry.attestation).")
public @interface AttestationConfig {

    @AttributeDefinition(name = "Measurement PCR", description = "The SHA-256 PCR the components are measured into. "
            + "PCR 23 is resettable from locality 0: on a real TPM add the boot PCRs to what is quoted.")
    int measurement_pcr() default 23;

    @AttributeDefinition(name = "Boot PCRs", description = "PCRs of the boot chain quoted alongside the measurement "
            + "PCR, comma-separated (on a real TPM, e.g. 0,2,4,7); empty with swtpm.")
    String boot_pcrs() default "";

    @AttributeDefinition(name = "Log folder", description = "Where the measurement log (measurements.log) lives.")
    String log_dir() default "data/ferry/attestation";

    @AttributeDefinition(name = "Binaries", description = "The hypervisor binaries to measure, by path "
            + "(several values, or one comma-separated value as a .cfg file gives it); the component's name is the file name.")
    String[] binaries() default { "/usr/bin/qemu-system-x86_64", "/usr/sbin/libvirtd" };

    @AttributeDefinition(name = "Probe binary versions", description = "Run each binary with --version (5 s at most) "
            + "after measuring it and take the first dotted number as its version; otherwise its version is 'unknown'.")
    boolean binary_version_probe() default true;

    @AttributeDefinition(name = "Bundle prefixes", description = "Bundles whose symbolic name starts with one of "
            + "these (several values, or comma-separated) are measured at start and whenever one is installed or updated.")
    String[] bundle_prefixes() default { "io.ferry" };
}
