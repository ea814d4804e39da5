package io.ferry.migration.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;

/** Where QEMU's stream sockets are, from the configuration: as libvirt sees them and as the agent does. */
class StreamSocketsTest {

    static final String SESSION = "0123456789abcdef0123456789abcdef";

    static MigrationConfig config(String dir, String local) {
        MigrationConfig c = mock(MigrationConfig.class);
        when(c.stream_dir()).thenReturn(dir);
        when(c.stream_dir_local()).thenReturn(local);
        return c;
    }

    @Test
    void noFolderMeansLibvirtsTunnel() {
        assertThat(StreamSockets.of(config("", ""))).isNull();
        assertThat(StreamSockets.of(config("  ", "/srv/host-a/run/ferry"))).isNull();
    }

    @Test
    void withoutALocalFolderTheAgentListensWhereLibvirtLooks() {
        StreamSockets s = StreamSockets.of(config("/run/libvirt/ferry", ""));

        assertThat(s.uri(SESSION)).isEqualTo("unix:///run/libvirt/ferry/" + SESSION + ".sock");
        assertThat(s.agentSocket(SESSION)).isEqualTo(Path.of("/run/libvirt/ferry", SESSION + ".sock"));
    }

    @Test
    void aLocalFolderIsTheSameSocketsSeenFromTheAgentsMountNamespace() {
        StreamSockets s = StreamSockets.of(config(" /run/libvirt/ferry ", " /srv/host-a/run/ferry "));

        assertThat(s.uri(SESSION)).isEqualTo("unix:///run/libvirt/ferry/" + SESSION + ".sock");
        assertThat(s.agentSocket(SESSION)).isEqualTo(Path.of("/srv/host-a/run/ferry", SESSION + ".sock"));
    }

    @Test
    void onlyASessionIdNamesASocket() {
        StreamSockets s = StreamSockets.of(config("/run/libvirt/ferry", ""));

        assertThatThrownBy(() -> s.agentSocket("../../run/libvirt/libvirt-sock"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a session id");
        assertThatThrownBy(() -> s.uri(SESSION.toUpperCase() + "0")).isInstanceOf(IllegalArgumentException.class);
    }
}
