package io.ferry.migration.internal;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Copies bytes both ways between two connections until both directions end; when one
 * direction ends its write side is half-closed so the other end sees end of stream, and when
 * both are done (or either fails) both connections are closed.
 */
final class Pipe {

    /** One connection: its streams, how to half-close its sending side, and how to close it. */
    interface End extends Closeable {
        InputStream in() throws IOException;

        OutputStream out() throws IOException;

        void shutdownOutput();
    }

    private Pipe() {
    }

    /** Starts the pipe; the returned future completes once both connections are closed. */
    static CompletableFuture<Void> connect(End a, End b, Executor executor) {
        return connect(a, b, executor, new AtomicLong());
    }

    /** As {@link #connect(End, End, Executor)}, adding every byte carried (both ways) to {@code carried}. */
    static CompletableFuture<Void> connect(End a, End b, Executor executor, AtomicLong carried) {
        AtomicInteger open = new AtomicInteger(2);
        CompletableFuture<Void> closed = new CompletableFuture<>();
        executor.execute(() -> copy(a, b, open, carried, closed));
        executor.execute(() -> copy(b, a, open, carried, closed));
        return closed;
    }

    private static void copy(End from, End to, AtomicInteger open, AtomicLong carried,
            CompletableFuture<Void> closed) {
        boolean clean = false;
        try (InputStream in = uncloseable(from.in())) {
            OutputStream out = to.out();
            byte[] buffer = new byte[64 * 1024];
            int n;
            while ((n = in.read(buffer)) != -1) {
                out.write(buffer, 0, n);
                out.flush();
                carried.addAndGet(n);
            }
            to.shutdownOutput();
            clean = true;
        } catch (IOException e) {
            // a reset or closed peer: the other direction is torn down below
        } finally {
            if (!clean || open.decrementAndGet() == 0) {
                closeQuietly(from);
                closeQuietly(to);
                closed.complete(null);
            }
        }
    }

    /** Closing a socket's input stream closes the socket: the copy must leave that to the end. */
    private static InputStream uncloseable(InputStream in) {
        return new java.io.FilterInputStream(in) {
            @Override
            public void close() {
            }
        };
    }

    private static void closeQuietly(Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // already closed
        }
    }
}
