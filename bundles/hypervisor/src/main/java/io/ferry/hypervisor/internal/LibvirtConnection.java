package io.ferry.hypervisor.internal;

import org.libvirt.Connect;
import org.libvirt.ErrorCallback;
import org.libvirt.LibvirtException;

import io.ferry.api.hypervisor.HypervisorException;

/**
 * One libvirt connection, opened on first use and opened again when the daemon went away.
 * A libvirt connection is thread-safe: callers share it, and a migration's progress is read
 * on it while the migration call blocks on it.
 */
final class LibvirtConnection implements AutoCloseable {

    /**
     * libvirt prints every error on stderr unless a handler is set; Ferry reports them as
     * exceptions already. Held in a static field: JNA must not lose the callback to the GC.
     */
    private static final ErrorCallback SILENT = new ErrorCallback();
    private static volatile boolean silenced;

    private final String uri;
    private final String host;
    private NativeConnect connect;

    LibvirtConnection(String uri, String host) {
        this.uri = uri;
        this.host = host;
    }

    synchronized NativeConnect get(String operation, String domain) {
        if (connect != null && !alive(connect)) {
            closeQuietly(connect);
            connect = null;
        }
        if (connect == null) {
            try {
                silenceDefaultErrorPrinter();
                connect = new NativeConnect(uri, false);
            } catch (LibvirtException e) {
                throw new HypervisorException(operation, domain, LibvirtErrors.describe(operation, domain, host,
                        "cannot connect to " + uri + ": " + LibvirtErrors.reason(e)), e);
            } catch (UnsatisfiedLinkError e) {
                throw new HypervisorException(operation, domain, LibvirtErrors.describe(operation, domain, host,
                        "the libvirt client library (libvirt0) is not installed: " + e.getMessage()), null);
            }
        }
        return connect;
    }

    private static void silenceDefaultErrorPrinter() throws LibvirtException {
        if (!silenced) {
            Connect.setErrorCallback(SILENT);
            silenced = true;
        }
    }

    @Override
    public synchronized void close() {
        if (connect != null) {
            closeQuietly(connect);
            connect = null;
        }
    }

    private static boolean alive(Connect c) {
        try {
            return c.isAlive();
        } catch (LibvirtException e) {
            return false;
        }
    }

    private static void closeQuietly(Connect c) {
        try {
            c.close();
        } catch (LibvirtException ignored) {
            // the connection is dead already; nothing to release on our side
        }
    }
}
