package io.ferry.migration.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.argThat;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import java.lang.annotation.Annotation;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;

import io.ferry.api.channel.ChannelHandler;
import io.ferry.api.hypervisor.Hypervisor;

/** The component around the engine: the gated tunnel it registers, and how it finds a host's hypervisor. */
class SecureMigrationsTest {

    @org.junit.jupiter.api.io.TempDir
    static java.nio.file.Path STATE;

    @Test
    @SuppressWarnings("unchecked")
    void registersTheGatedLibvirtTunnelAndUnregistersItWhenDeactivated() {
        BundleContext context = mock(BundleContext.class);
        ServiceRegistration<ChannelHandler> registration = mock(ServiceRegistration.class);
        when(context.registerService(eq(ChannelHandler.class), any(ChannelHandler.class), any()))
                .thenReturn(registration);

        SecureMigrations component = new SecureMigrations(config("local"), context);

        verify(context).registerService(eq(ChannelHandler.class), any(LibvirtTunnelHandler.class),
                argThat(d -> LibvirtTunnelHandler.PURPOSE.equals(d.get(ChannelHandler.PURPOSE))));
        assertThat(component.inFlight()).isEmpty();
        assertThat(component.history()).isEmpty();
        component.close();
        verify(registration).unregister();
    }

    @Test
    void findsTheHypervisorByHostNameWithTheConfiguredHostAsDefault() {
        SecureMigrations component = new SecureMigrations(config("laptop"), context());
        Hypervisor laptop = mock(Hypervisor.class);
        Hypervisor usb = mock(Hypervisor.class);
        component.addHypervisor(usb, Map.of(Hypervisor.HOST_PROPERTY, "usb"));
        assertThat(component.hypervisor(null)).as("one host only: that one").isSameAs(usb);
        component.addHypervisor(laptop, Map.of(Hypervisor.HOST_PROPERTY, "laptop"));
        assertThat(component.hypervisor(null)).isSameAs(laptop);
        assertThat(component.hypervisor("usb")).isSameAs(usb);
        assertThat(component.hypervisor("nowhere")).isNull();
        component.removeHypervisor(laptop, Map.of(Hypervisor.HOST_PROPERTY, "laptop"));
        assertThat(component.hypervisor("laptop")).isNull();
        component.close();
    }

    @SuppressWarnings("unchecked")
    private static BundleContext context() {
        BundleContext context = mock(BundleContext.class);
        when(context.registerService(eq(ChannelHandler.class), any(ChannelHandler.class), any()))
                .thenReturn(mock(ServiceRegistration.class));
        return context;
    }

    private static MigrationConfig config(String host) {
        return new MigrationConfig() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return MigrationConfig.class;
            }

            @Override
            public String libvirt_address() {
                return "127.0.0.1:16509";
            }

            @Override
            public String host() {
                return host;
            }

            @Override
            public String stream_dir() {
                return ""; // libvirt's tunnel
            }

            @Override
            public String stream_dir_local() {
                return "";
            }

            @Override
            public long control_timeout_ms() {
                return 30_000;
            }

            @Override
            public long timeout_s() {
                return 600;
            }

            @Override
            public long max_downtime_ms() {
                return 300;
            }

            @Override
            public long protection_wait_ms() {
                return 10_000;
            }

            @Override
            public long protection_max_age_ms() {
                return 5_000;
            }

            @Override
            public boolean protection_required() {
                return true;
            }

            @Override
            public int history_size() {
                return 200;
            }

            @Override
            public String state_dir() {
                return STATE.toString();
            }
        };
    }
}
