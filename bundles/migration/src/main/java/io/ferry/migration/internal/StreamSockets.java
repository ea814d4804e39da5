package io.ferry.migration.internal;

import java.nio.file.Path;

/**
 * Where the UNIX sockets of QEMU's migration stream are: the folder as libvirt and QEMU see it (it is in
 * the URI the source gives libvirt, and the target's QEMU listens there, so it is the same on every device)
 * and as this agent sees it (the same folder, unless libvirtd runs in a mount namespace of its own, as the
 * testbed's do).
 */
public record StreamSockets(Path libvirtFolder, Path agentFolder) {

    /** The configured folders, or null when migrations are to carry the VM state in libvirt's tunnel. */
    static StreamSockets of(MigrationConfig c) {
        if (c.stream_dir().isBlank()) {
            return null;
        }
        Path libvirt = Path.of(c.stream_dir().trim());
        String local = c.stream_dir_local().trim();
        return new StreamSockets(libvirt, local.isEmpty() ? libvirt : Path.of(local));
    }

    /** The migration URI of a session's stream, for libvirt. */
    String uri(String session) {
        return "unix://" + libvirtFolder.resolve(QemuStreamHandler.socketName(session));
    }

    /** A session's socket as this agent sees it. */
    Path agentSocket(String session) {
        return agentFolder.resolve(QemuStreamHandler.socketName(session));
    }
}
