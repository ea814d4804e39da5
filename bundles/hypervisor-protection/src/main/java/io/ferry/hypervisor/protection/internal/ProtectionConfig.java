package io.ferry.hypervisor.protection.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import io.ferry.api.protection.ProtectionAction;

@ObjectClassDefinition(name = "Ferry hypervisor protection",
        description = "Measures the protected memory of running guests (by default the kernel text, located at each "
                + "boot from the guest's page tables) and the host's QEMU and libvirtd binaries (PID io.ferry.protection).")
public @interface ProtectionConfig {

    @AttributeDefinition(name = "Interval (seconds)", description = "The pause between two rounds that measure every "
            + "protected domain; 0 measures only on demand (protection:baseline, HypervisorProtection.check). A "
            + "migration relies on a round's result no older than its protection.max.age.ms (5 s) instead of checking "
            + "the VM itself, so 2 s keeps one young enough; each round costs about 180 ms of CPU per 14 MiB of kernel "
            + "text (JVM, QEMU and libvirtd together).")
    int interval_seconds() default 2;

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
            + "the measurement log (see binaries.interval.seconds).")
    String[] binaries() default {"/usr/bin/qemu-system-x86_64", "/usr/sbin/libvirtd"};

    @AttributeDefinition(name = "Binaries interval (seconds)", description = "How often a round re-measures the host "
            + "binaries too: at most at every round, by default at the first round and then every 30 s.")
    int binaries_interval_seconds() default 30;

    @AttributeDefinition(name = "Baseline file", description = "Where baselines are kept across restarts and hot "
            + "updates of this bundle; empty keeps them in memory only.")
    String baseline_file() default "${karaf.data}/ferry/protection/baselines.json";

    @AttributeDefinition(name = "Alerts kept", description = "How many alerts protection:alerts can show.")
    int alerts_kept() default 1000;
}
