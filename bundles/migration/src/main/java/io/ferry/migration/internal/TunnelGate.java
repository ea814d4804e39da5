package io.ferry.migration.internal;

import java.io.Closeable;
import java.io.IOException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import io.ferry.api.channel.Channel;

/**
 * Which agents may open libvirt tunnels to this device now: only the source of a migrate-in that
 * this agent accepted (after attesting it and deciding on the VM's policy), and only until that
 * migration ends. Without the gate, any agent with a certificate could talk to this device's
 * libvirtd. A tunnel must present the very certificate of the control channel that was attested,
 * not only the same agent name: another key certified for that name (an older enrolment, say)
 * was never attested on this migration. Every tunnel admitted for a session is closed with it, which cuts libvirt's
 * connection: an incoming migration cannot finish after its session ended.
 */
final class TunnelGate {

    /** One accepted migrate-in: the tunnels it carries. */
    final class Session implements Closeable {
        final String peer;
        final String id;
        private final X509Certificate certificate;
        private final List<Closeable> tunnels = new CopyOnWriteArrayList<>();
        private volatile boolean closed;

        private Session(String peer, X509Certificate certificate, String id) {
            this.peer = peer;
            this.certificate = certificate;
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

    /**
     * Opens the gate for one migrate-in session: tunnels from the agent at the other end of
     * {@code control}, presenting the same certificate.
     */
    Session open(Channel control, String id) {
        Session s = new Session(control.peerAgentId(), control.peerCertificate(), id);
        open.computeIfAbsent(s.peer, p -> new CopyOnWriteArrayList<>()).add(s);
        return s;
    }

    /**
     * The session a tunnel channel belongs to (the newest open one of its peer whose control channel
     * showed the same certificate), or null when there is none.
     */
    Session admit(Channel channel) {
        return admit(channel, null);
    }

    /**
     * The session {@code id} when it is open for the agent at the other end of {@code channel} with the
     * certificate it presents (the channel joins it), or null; a null id takes the newest such session.
     */
    Session admit(Channel channel, String id) {
        List<Session> sessions = open.get(channel.peerAgentId());
        if (sessions == null) {
            return null;
        }
        X509Certificate presented = channel.peerCertificate();
        Session[] snapshot = sessions.toArray(new Session[0]); // sessions end concurrently
        for (int i = snapshot.length - 1; i >= 0; i--) {
            Session s = snapshot[i];
            if (s.certificate.equals(presented) && (id == null || s.id.equals(id))) {
                s.add(channel);
                return s;
            }
        }
        return null;
    }

    /** Whether any session is open for the agent at the other end of {@code channel}, with its certificate. */
    boolean expects(Channel channel) {
        List<Session> sessions = open.get(channel.peerAgentId());
        X509Certificate presented = channel.peerCertificate();
        return sessions != null && sessions.stream().anyMatch(s -> s.certificate.equals(presented));
    }

    private static void closeQuietly(Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // closed already
        }
    }
}
