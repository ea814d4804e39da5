package io.ferry.checkpoint.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.service.metatype.annotations.Option;

@ObjectClassDefinition(name = "Ferry checkpoints",
        description = "Periodic checkpoints to a backup agent, the backup store, failure detection and recovery.")
public @interface CheckpointConfig {

    @AttributeDefinition(name = "Store folder", description = "Where this agent keeps the checkpoints it backs up "
            + "(encrypted) and the disk bases consistent with them. Empty: <karaf.data>/ferry/checkpoint/store.")
    String store_dir() default "";

    @AttributeDefinition(name = "Work folder", description = "Where the primary writes memory images before "
            + "shipping them and the backup decrypts one for a recovery (deleted right after). Empty: "
            + "<karaf.data>/ferry/checkpoint/work.")
    String work_dir() default "";

    @AttributeDefinition(name = "qemu-img", description = "The qemu-img binary.")
    String qemu_img() default "qemu-img";

    @AttributeDefinition(name = "Recovery host", description = "The Ferry hypervisor host (ferry.host) a recovered "
            + "VM runs on.")
    String recovery_host() default "local";

    @AttributeDefinition(name = "Heartbeat interval (ms)")
    long heartbeat_interval_ms() default 1000;

    @AttributeDefinition(name = "Failure timeout (ms)", description = "A primary not heard from for this long is "
            + "presumed gone.")
    long failure_timeout_ms() default 10_000;

    @AttributeDefinition(name = "Lease time (s)", description = "How long a lease granted by the IT center stands "
            + "without renewal. The primary renews it every third of it (more often for short leases), pauses its VM when "
            + "it could not renew for three quarters of it, and its fencing watchdog destroys the VM at the fence time; "
            + "the backup can take it over only after it expired. With fencing, at least 6 s.")
    int lease_ttl_s() default 30;

    @AttributeDefinition(name = "Failover", description = "automatic: the backup recovers a VM when its primary is "
            + "gone (and the lease moved to it); manual: only checkpoint:recover does.",
            options = {@Option(value = "automatic"), @Option(value = "manual")})
    String failover() default "automatic";

    @AttributeDefinition(name = "IT center unreachable", description = "safety: without the IT center's lease no "
            + "recovery happens and a primary that cannot renew pauses its VM (never two running copies); "
            + "availability: the backup recovers on missed heartbeats alone and the primary keeps running (a cut "
            + "link can then leave two running copies).",
            options = {@Option(value = "safety"), @Option(value = "availability")})
    String itcenter_unreachable() default "safety";

    @AttributeDefinition(name = "Fencing", description = "watchdog: per protected VM a small process outside the "
            + "agent (ferry-fence.sh, setsid + flock) destroys the VM through libvirt when the agent has not renewed its "
            + "lease for the fence time (lease time minus max(0.75 s, 1/8 of it)), before the backup can take the lease "
            + "over, also when the agent is dead; needs /proc/uptime, setsid, flock and virsh. none: no fencing when "
            + "the agent dies (its VM runs on and the backup may recover it: two copies). Only in safety mode.",
            options = {@Option(value = "watchdog"), @Option(value = "none")})
    String fence() default "watchdog";

    @AttributeDefinition(name = "virsh", description = "The virsh binary the fencing watchdog destroys a VM with.")
    String virsh() default "virsh";

    @AttributeDefinition(name = "QEMU pid folder", description = "Where libvirt writes each running domain's QEMU pid "
            + "(<vm>.pid): the fencing watchdog kills that QEMU at once (checked to run as -name guest=<vm>) before "
            + "virsh destroy, which alone takes over a second. Unreadable: virsh destroy only.")
    String qemu_pid_dir() default "/run/libvirt/qemu";

    @AttributeDefinition(name = "Largest checkpoint (bytes)")
    long max_checkpoint_bytes() default 64L << 30;
}
