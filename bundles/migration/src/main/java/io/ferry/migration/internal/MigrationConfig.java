package io.ferry.migration.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(name = "Ferry migration",
        description = "How migrations reach this device's libvirt daemon from inside agent channels.")
public @interface MigrationConfig {

    @AttributeDefinition(name = "libvirt TCP address",
            description = "host:port where this device's libvirtd listens for TCP connections; only this agent "
                    + "connects there, on behalf of a migration that arrived through an authenticated channel.")
    String libvirt_address() default "127.0.0.1:16509";
}
