package io.ferry.migration.internal;

import java.io.Closeable;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import io.ferry.api.channel.Channel;

/**
 * Which agents may open libvirt tunnels to this device now: only the source of a migrate-in that
 * this agent accepted (after attesting it and deciding on the VM's policy), and only until that
 * migration ends. Without the gate, any agent with a certificate could talk to this device's
 * libvirtd. Every tunnel admitted for a session is closed with it, which cuts libvirt's
 * connection: an incoming migration cannot finish after its session ended.
 */
final class TunnelGate {

    /** One accepted migrate-in: the tunnels it carries. */
    final class Session implements Closeable {
        final String peer;
        final String id;
        private final List<Closeable> tunnels = new CopyOnWriteArrayList<>();
        private volatile boolean closed;

        private Session(String peer, String id) {
            this.peer = peer;
            this.id = id;
        }

        /** Adds a connection to close with the session; closes it at once when the session ended already. */
        void add(Closeable c) {
            tunnels.add(c);
            if (closed) {
                closeQuietly(c);
            }
        }

        @Override
        public void close() {
            closed = true;
            open.computeIfPresent(peer, (p, list) -> {
                list.remove(this);
                return list.isEmpty() ? null : list;
            });
            tunnels.forEach(TunnelGate::closeQuietly);
        }
    }

    private final Map<String, List<Session>> open = new ConcurrentHashMap<>();

    /** Opens the gate for tunnels from {@code peer} for one migrate-in session. */
    Session open(String peer, String id) {
        Session s = new Session(peer, id);
        open.computeIfAbsent(peer, p -> new CopyOnWriteArrayList<>()).add(s);
        return s;
    }

    /** The session a tunnel channel from its peer belongs to, or null when none is open. */
    Session admit(Channel channel) {
        List<Session> sessions = open.get(channel.peerAgentId());
        if (sessions == null || sessions.isEmpty()) {
            return null;
        }
        Session s = sessions.get(sessions.size() - 1);
        s.add(channel);
        return s;
    }

    private static void closeQuietly(Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // closed already
        }
    }
}
