package io.ferry.itcenter.attestation;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(name = "Ferry IT center attestation",
        description = "How the IT center judges attestation evidence: security levels, required components, nonce "
                + "lifetime, and how remediation names features (PID io.ferry.itcenter.attestation).")
public @interface AttestationConfig {

    @AttributeDefinition(name = "Security levels", description = "The ordered levels, lowest first (several values, "
            + "or one comma-separated value). Evidence failing an integrity check gets the lowest; genuine evidence "
            + "whose every component matches its reference value the highest.")
    String[] security_levels() default { "untrusted", "measured", "trusted" };

    @AttributeDefinition(name = "Level of unknown components", description = "The level of genuine evidence with an "
            + "unknown, mismatching or missing component.")
    String unknown_level() default "measured";

    @AttributeDefinition(name = "Required components", description = "Components that must be measured, e.g. "
            + "qemu-system-x86_64 (several values, or comma-separated); their absence lowers the level.")
    String[] required_components() default {};

    @AttributeDefinition(name = "Strict history", description = "Appraise every event since the TPM's last reset, "
            + "not only each component's latest measurement (then a remediation needs a reboot).")
    boolean strict_history() default false;

    @AttributeDefinition(name = "Measurement PCR", description = "The PCR agents measure into.")
    int measurement_pcr() default 23;

    @AttributeDefinition(name = "Nonce lifetime (seconds)", description = "Evidence for a nonce older than this is refused.")
    int nonce_ttl_seconds() default 60;

    @AttributeDefinition(name = "Feature of a bundle", description = "Remediation: the feature that brings a bundle "
            + "when its reference value names no release 'feature/version': symbolicName=feature entries; any other "
            + "io.ferry.<area> bundle is in feature ferry-<area>.")
    String[] feature_overrides() default { "io.ferry.tss-java=ferry-tpm", "io.ferry.libvirt-java=ferry-hypervisor" };

    @AttributeDefinition(name = "Features repository", description = "Remediation: the features repository agents "
            + "add when the IT center's published releases name none (e.g. mvn:io.ferry/ferry-features/0.1.0/xml/features); "
            + "empty for none.")
    String features_repository() default "";

    @AttributeDefinition(name = "Withdrawn releases", description = "Published releases whose reference values no "
            + "longer count, e.g. after a flaw was found in them: a bundle measured at a withdrawn version has no "
            + "reference value, so an agent that runs (or goes back to) it is below the highest level and the "
            + "remediation names a newer release. Entries: a release as itcenter:releases prints it "
            + "(feature/version), or component@version (several values, or comma-separated).")
    String[] withdrawn() default {};
}
