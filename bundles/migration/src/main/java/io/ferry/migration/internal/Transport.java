package io.ferry.migration.internal;

import java.io.Closeable;
import java.io.IOException;
import java.time.Duration;

import io.ferry.api.channel.AgentAddress;
import io.ferry.api.channel.AgentChannels;
import io.ferry.api.channel.ChannelException;
import io.ferry.api.hypervisor.MigrationOptions;

/**
 * A migrate-out's relays to the target agent, open for that migration: libvirt's connection to the
 * target's daemon and, unless the VM state travels in libvirt's tunnel, QEMU's own stream.
 */
final class Transport implements Closeable {

    private final Relay libvirt;
    private final Relay stream;
    private final String streamUri;

    private Transport(Relay libvirt, Relay stream, String streamUri) {
        this.libvirt = libvirt;
        this.stream = stream;
        this.streamUri = streamUri;
    }

    /** @param sockets where QEMU's stream sockets are; null: the VM state goes in libvirt's tunnel */
    static Transport open(AgentChannels channels, AgentAddress target, Duration timeout, StreamSockets sockets,
            String session) throws IOException {
        Relay libvirt = Relay.libvirt(channels, target, timeout);
        if (sockets == null) {
            return new Transport(libvirt, null, null);
        }
        try {
            Relay stream = Relay.stream(channels, target, timeout, sockets.agentSocket(session), session);
            return new Transport(libvirt, stream, sockets.uri(session));
        } catch (IOException | RuntimeException e) {
            libvirt.close();
            throw e;
        }
    }

    /** The libvirt URI of the target's daemon, through the relay. */
    String libvirtUri() {
        return libvirt.libvirtUri();
    }

    /** The caller's options, with QEMU's stream sent to the relay's socket when there is one. */
    MigrationOptions apply(MigrationOptions options) {
        return streamUri == null ? options : options.streamingTo(streamUri);
    }

    /** Bytes carried both ways in all channels. */
    long bytesCarried() {
        return libvirt.bytesCarried() + (stream != null ? stream.bytesCarried() : 0);
    }

    /** The first channel failure of either relay, or null. */
    ChannelException failure() {
        ChannelException f = stream != null ? stream.failure() : null;
        return f != null ? f : libvirt.failure();
    }

    @Override
    public void close() throws IOException {
        try {
            libvirt.close();
        } finally {
            if (stream != null) {
                stream.close();
            }
        }
    }
}
