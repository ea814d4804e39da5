package io.ferry.itcenter.repository;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(name = "Ferry IT center features repository",
        description = "The Maven-layout repository the IT center serves at https://<its address>/repository/ "
                + "(PID io.ferry.itcenter.repository).")
public @interface RepositoryConfig {

    @AttributeDefinition(name = "Folder",
            description = "Where published files are kept, in Maven layout; empty for ${karaf.data}/itcenter/repository.")
    String repository_dir() default "";

    @AttributeDefinition(name = "Largest artifact (MiB)", description = "A larger bundle or features file is refused.")
    int max_artifact_mib() default 256;
}
