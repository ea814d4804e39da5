package io.ferry.itests;

import java.lang.annotation.Annotation;

import io.ferry.hypervisor.internal.HypervisorConfig;
import io.ferry.hypervisor.internal.LibvirtHypervisor;

/**
 * The hypervisor service, outside Karaf, on a testbed host: for tests and benchmarks that run
 * in the test JVM itself. Testbed hosts keep their disks in one shared folder.
 */
public final class TestbedHypervisors {

    private TestbedHypervisors() {
    }

    public static LibvirtHypervisor connect(String host, String uri) {
        return new LibvirtHypervisor(new HypervisorConfig() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return HypervisorConfig.class;
            }

            @Override
            public String ferry_host() {
                return host;
            }

            @Override
            public String uri() {
                return uri;
            }

            @Override
            public boolean storage_shared() {
                return true;
            }
        });
    }
}
