package io.ferry.hypervisor.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(name = "Ferry hypervisor host",
        description = "One libvirt host that this agent manages. Create one configuration per host "
                + "(factory PID io.ferry.hypervisor); the device's own host is usually named 'local'.")
public @interface HypervisorConfig {

    @AttributeDefinition(name = "Host name",
            description = "Ferry's name for this host; published as the service property ferry.host.")
    String ferry_host() default "local";

    @AttributeDefinition(name = "libvirt URI",
            description = "The libvirt connection URI, e.g. qemu:///system or qemu+tcp://127.0.0.1:16600/system.")
    String uri() default "qemu:///system";


    @AttributeDefinition(name = "Disks on shared storage",
            description = "True when this host's disk images sit on storage that every migration target sees "
                    + "at the same path (as in the testbed). libvirt cannot tell that on a local filesystem and "
                    + "refuses such a migration as unsafe unless told.")
    boolean storage_shared() default false;
}
