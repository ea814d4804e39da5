package io.ferry.hypervisor.protection.internal;

import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;

/**
 * The hypervisor calls of the protection logic (all of them: any can block inside libvirt for seconds), run on a
 * thread of their own while the caller waits for them in a way the component can cut short.
 *
 * <p>Why: a memory peek ({@code virDomainMemoryPeek}, QEMU's {@code pmemsave}) and a monitor command take the
 * domain's job lock, so while the domain migrates they may wait behind the migration job (the likely cause of a
 * 6.9 s swap in one CI run of HotUpdateIT; here such reads took at most 0.2 s). No Java interrupt ends a native
 * call. When the component stopped for a hot update and waited
 * for such a call, the update became active only after the migration had ended. So the caller (a check, a baseline,
 * a round) does not make the call itself: it waits for it here, and {@link #abort} wakes every waiting caller at
 * once with the component's "ask the successor" exception. The stuck call's thread (a daemon) finishes whenever
 * libvirt answers; its result completes a future nobody waits for any more, and is dropped.
 *
 * <p>Without an executor (tests, tools outside OSGi) a call runs on the caller's thread and is not abortable; the
 * abort is then only seen before the next call, as before.
 */
final class HypervisorCalls {

    /** Where the calls run; null: on the caller's thread. */
    private final Executor executor;
    /** Calls someone waits for: completed with the abort reason when the component stops. */
    private final Set<CompletableFuture<?>> waited = ConcurrentHashMap.newKeySet();
    private volatile RuntimeException abort;

    HypervisorCalls(Executor executor) {
        this.executor = executor;
    }

    /** The reason given to {@link #abort}, or null while the component runs. */
    RuntimeException aborted() {
        return abort;
    }

    /** Throws the abort reason once the component stops: a measurement gives up before its next call with it. */
    void checkNotAborted() {
        RuntimeException a = abort;
        if (a != null) {
            throw a;
        }
    }

    /**
     * From now on every call waited for, or to come, ends with {@code reason} (the same object: callers compare it).
     * Set first, then the waiting calls are woken: a call started concurrently either sees the reason or is in
     * {@link #waited} when it is walked.
     */
    void abort(RuntimeException reason) {
        abort = reason;
        for (CompletableFuture<?> f : waited) {
            f.completeExceptionally(reason);
        }
    }

    /** Runs the call (on the executor when there is one) and waits for it, or for the abort. */
    <T> T call(Supplier<T> call) {
        return await(start(call));
    }

    /** Starts the call on the executor (or runs it now without one); {@link #await} gets its result. */
    <T> CompletableFuture<T> start(Supplier<T> call) {
        checkNotAborted();
        CompletableFuture<T> f = new CompletableFuture<>();
        if (executor == null) {
            try {
                f.complete(call.get());
            } catch (RuntimeException e) {
                f.completeExceptionally(e);
            }
            return f;
        }
        waited.add(f);
        RuntimeException a = abort;
        if (a != null) {
            f.completeExceptionally(a);
            return f;
        }
        try {
            executor.execute(() -> {
                try {
                    f.complete(call.get()); // a no-op when the abort completed it already: the result is dropped
                } catch (RuntimeException | Error e) {
                    f.completeExceptionally(e);
                }
            });
        } catch (RejectedExecutionException e) { // the executor is shut down: the component stops
            RuntimeException reason = abort;
            f.completeExceptionally(reason != null ? reason : e);
        }
        return f;
    }

    /** The call's result, or its own exception, or the abort reason, whichever comes first. */
    <T> T await(CompletableFuture<T> f) {
        try {
            return f.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the hypervisor", e);
        } finally {
            waited.remove(f);
        }
    }
}
