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
            + "without renewal. The primary renews it every third of it and pauses its VM when it could not renew "
            + "for that long; the backup can take it over only after it expired.")
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

    @AttributeDefinition(name = "Largest checkpoint (bytes)")
    long max_checkpoint_bytes() default 64L << 30;
}
