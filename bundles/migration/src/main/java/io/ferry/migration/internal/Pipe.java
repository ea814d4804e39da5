package io.ferry.migration.internal;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Copies bytes both ways between two connections until both directions end; when one
 * direction ends its write side is half-closed so the other end sees end of stream, and when
 * both are done (or either fails) both connections are closed. Each direction moves its bytes
 * through one direct buffer: a socket reads into it and writes from it, and an agent channel
 * seals and opens its records there, so the relay itself copies nothing.
 */
final class Pipe {

    /** What one direction moves at most at a time: many TLS records, a few system calls' worth. */
    static final int BUFFER = 256 * 1024;

    /** One connection: its two directions, how to half-close its sending side, and how to close it. */
    interface End extends Closeable {
        ReadableByteChannel source() throws IOException;

        WritableByteChannel sink() throws IOException;

        void shutdownOutput();
    }

    private Pipe() {
    }

    /** Starts the pipe; the returned future completes once both connections are closed. */
    static CompletableFuture<Void> connect(End a, End b, Executor executor) {
        return connect(a, b, executor, new AtomicLong());
    }

    /**
     * Connects the two and waits until both are closed: for a channel handler, whose channel the channel server
     * closes as soon as the handler returns. An interrupt (the server stopping, which closes the channel and so
     * ends the pipe) returns at once with the thread's interrupt status set.
     */
    static void carry(End a, End b, Executor executor) {
        try {
            connect(a, b, executor).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("the pipe only ever completes normally", e);
        }
    }

    /** As {@link #connect(End, End, Executor)}, adding every byte carried (both ways) to {@code carried}. */
    static CompletableFuture<Void> connect(End a, End b, Executor executor, AtomicLong carried) {
        return connect(a, b, executor, carried, e -> { });
    }

    /**
     * As {@link #connect(End, End, Executor, AtomicLong)}, telling {@code broken} when a direction ended
     * with an error (a reset or cut connection) rather than an end of stream.
     */
    static CompletableFuture<Void> connect(End a, End b, Executor executor, AtomicLong carried,
            Consumer<IOException> broken) {
        AtomicInteger open = new AtomicInteger(2);
        CompletableFuture<Void> closed = new CompletableFuture<>();
        // once one direction ended cleanly, the other may end with an error because the half-close
        // closed a whole TLS channel: that is an ending, not a break
        AtomicBoolean ending = new AtomicBoolean();
        Consumer<IOException> unlessEnding = e -> {
            if (!ending.get()) {
                broken.accept(e);
            }
        };
        executor.execute(() -> copy(a, b, open, carried, closed, ending, unlessEnding));
        executor.execute(() -> copy(b, a, open, carried, closed, ending, unlessEnding));
        return closed;
    }

    private static void copy(End from, End to, AtomicInteger open, AtomicLong carried,
            CompletableFuture<Void> closed, AtomicBoolean ending, Consumer<IOException> broken) {
        boolean clean = false;
        try {
            ReadableByteChannel in = from.source();
            WritableByteChannel out = to.sink();
            ByteBuffer buffer = ByteBuffer.allocateDirect(BUFFER);
            int n;
            while ((n = in.read(buffer)) != -1) {
                carried.addAndGet(n); // counted before it is passed on, so a reader of the far end sees it counted
                buffer.flip();
                while (buffer.hasRemaining()) {
                    out.write(buffer);
                }
                buffer.clear();
            }
            ending.set(true);
            to.shutdownOutput();
            clean = true;
        } catch (IOException e) {
            // a reset or closed peer: the other direction is torn down below
            if (!closed.isDone()) {
                broken.accept(e);
            }
        } finally {
            if (!clean || open.decrementAndGet() == 0) {
                closeQuietly(from);
                closeQuietly(to);
                closed.complete(null);
            }
        }
    }

    private static void closeQuietly(Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // already closed
        }
    }
}
