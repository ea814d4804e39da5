package io.ferry.migration.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(name = "Ferry migration",
        description = "Secure live migration: how migrations reach this device's libvirt daemon from inside agent "
                + "channels, and the limits of the migrate-out and migrate-in flows.")
public @interface MigrationConfig {

    @AttributeDefinition(name = "libvirt TCP address",
            description = "host:port where this device's libvirtd listens for TCP connections; only this agent "
                    + "connects there, on behalf of a migration that arrived through an authenticated channel.")
    String libvirt_address() default "127.0.0.1:16509";

    @AttributeDefinition(name = "Stream folder", description = "Folder of the UNIX sockets that carry QEMU's "
            + "migration stream (the VM state) to and from this agent, as libvirt and QEMU see it; the same on every "
            + "device, and QEMU's user must be able to create and connect sockets there. Empty: the VM state travels "
            + "inside libvirt's tunnelled connection instead (slower: libvirtd copies it twice more).")
    String stream_dir() default "/run/libvirt/ferry";

    @AttributeDefinition(name = "Stream folder, as the agent sees it", description = "The same folder as this "
            + "agent sees it, when libvirtd runs in a mount namespace of its own (the testbed's do). "
            + "Empty: stream.dir.")
    String stream_dir_local() default "";

    @AttributeDefinition(name = "Host", description = "The Ferry host name (Hypervisor service property ferry.host) "
            + "of this device's libvirt host: where migrate-in puts VMs, and migrate-out takes them from by default.")
    String host() default "local";

    @AttributeDefinition(name = "Control timeout (ms)", description = "How long each step of the control protocol "
            + "(attestation, offer, confirmation) may take before the migration is aborted.")
    long control_timeout_ms() default 30_000;

    @AttributeDefinition(name = "Migration timeout (s)", description = "Abort a migration not confirmed by then.")
    long timeout_s() default 600;

    @AttributeDefinition(name = "Max downtime (ms)", description = "The longest guest pause at switch-over.")
    long max_downtime_ms() default 300;

    @AttributeDefinition(name = "Protection wait (ms)", description = "How long to wait for the hypervisor "
            + "protection service when it is absent (being swapped) before refusing the migration.")
    long protection_wait_ms() default 10_000;

    @AttributeDefinition(name = "Protection result max age (ms)", description = "A migration may rely on hypervisor "
            + "protection's latest result of the VM (its periodic check) when that check began at most this long before "
            + "the offer; only when there is none that young does it check the VM now, while the channel and the "
            + "attestation run. A latest result that found the VM changed refuses the migration. 0: always check now.")
    long protection_max_age_ms() default 5_000;

    @AttributeDefinition(name = "Protection required", description = "Whether a VM may leave only after hypervisor "
            + "protection found it intact. Turn off only on devices without the hypervisor-protection feature.")
    boolean protection_required() default true;

    @AttributeDefinition(name = "History size", description = "How many finished migrations migration:history keeps.")
    int history_size() default 200;

    @AttributeDefinition(name = "State folder", description = "Where the used migration session ids (no replay "
            + "across a restart) and the history are kept. Empty: ${karaf.data}/ferry/migration, or the bundle's "
            + "data folder outside Karaf.")
    String state_dir() default "";
}
