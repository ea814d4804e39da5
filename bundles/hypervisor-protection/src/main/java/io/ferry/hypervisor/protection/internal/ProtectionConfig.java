package io.ferry.hypervisor.protection.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import io.ferry.api.protection.ProtectionAction;

@ObjectClassDefinition(name = "Ferry hypervisor protection",
        description = "Measures the protected memory of running guests (by default the kernel text, located at each "
                + "boot from the guest's page tables) and the host's QEMU and libvirtd binaries (PID io.ferry.protection).")
public @interface ProtectionConfig {

    @AttributeDefinition(name = "Interval (seconds)", description = "How often every protected domain is measured; "
            + "0 measures only on demand (protection:baseline, HypervisorProtection.check).")
    int interval_seconds() default 30;

    @AttributeDefinition(name = "Action on change", description = "Besides the alert: REFUSE_MIGRATION (every check "
            + "reports the domain CHANGED until a new baseline) or PAUSE (also pause its virtual CPUs).")
    ProtectionAction action() default ProtectionAction.REFUSE_MIGRATION;

    @AttributeDefinition(name = "Baseline new domains", description = "Take the baseline of a running domain the "
            + "first time a round sees it (trust on first use). Off: only protection:baseline takes one.")
    boolean baseline_auto() default true;

    @AttributeDefinition(name = "Protect the kernel text", description = "Locate and protect each guest's kernel "
            + "text (the executable pages of the kernel image mapping).")
    boolean kernel_text() default true;

    @AttributeDefinition(name = "Configured regions", description = "Extra regions: "
            + "[host/]domain=name:gpa|gva:start:length, numbers decimal or 0x hex, e.g. "
            + "demo=idt:gva:0xfffffe0000000000:4096. A gva region is translated at each baseline.")
    String[] regions() default {};

    @AttributeDefinition(name = "Host binaries", description = "The host's hypervisor binaries re-measured against "
            + "the measurement log at each round.")
    String[] binaries() default {"/usr/bin/qemu-system-x86_64", "/usr/sbin/libvirtd"};

    @AttributeDefinition(name = "Baseline file", description = "Where baselines are kept across restarts and hot "
            + "updates of this bundle; empty keeps them in memory only.")
    String baseline_file() default "${karaf.data}/ferry/protection/baselines.json";

    @AttributeDefinition(name = "Alerts kept", description = "How many alerts protection:alerts can show.")
    int alerts_kept() default 1000;
}
