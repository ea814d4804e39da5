package io.ferry.attestation.internal;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import io.ferry.api.attestation.AttestationException;
import io.ferry.api.channel.Channel;

/** A blocking channel read with a deadline: channels have no read timeout, so the read runs on a thread of
 * its own and the channel is closed when the deadline passes (which ends the read). */
final class Timed {

    interface Read<T> {
        T run() throws IOException;
    }

    /** A read started on its own thread: the caller may write meanwhile, then waits for it. */
    static final class Pending<T> {
        private final Channel channel;
        private final String what;
        private final Future<T> read;

        private Pending(Channel channel, String what, Future<T> read) {
            this.channel = channel;
            this.what = what;
            this.read = read;
        }

        /** The read's result; past the deadline the channel is closed and the read fails. */
        T await(Duration timeout) throws IOException {
            try {
                return read.get(Math.max(1, timeout.toMillis()), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                read.cancel(true);
                try {
                    channel.close();
                } catch (IOException ignored) {
                    // closing only ends the read
                }
                throw new AttestationException("no " + what + " from agent " + channel.peerAgentId() + " within "
                        + timeout.toMillis() + " ms; the channel was closed");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                read.cancel(true);
                throw new AttestationException("interrupted waiting for " + what + " from agent "
                        + channel.peerAgentId());
            } catch (ExecutionException e) {
                if (e.getCause() instanceof IOException io) {
                    throw io;
                }
                if (e.getCause() instanceof RuntimeException r) {
                    throw r;
                }
                throw new AttestationException(e.getCause().toString(), e.getCause());
            }
        }
    }

    private static final ExecutorService READERS = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "ferry-peer-attestation-read");
        t.setDaemon(true);
        return t;
    });

    private Timed() {
    }

    static <T> Pending<T> start(Channel channel, String what, Read<T> read) {
        return new Pending<>(channel, what, READERS.submit(read::run));
    }

    static <T> T read(Channel channel, Duration timeout, String what, Read<T> read) throws IOException {
        return start(channel, what, read).await(timeout);
    }
}
