package io.ferry.hypervisor.internal;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/**
 * The few libvirt calls that libvirt-java does not offer, bound directly through JNA.
 * virDomainRestoreFlags is needed to restore a memory image with replacement XML (the
 * checkpoint's disk lives elsewhere on the backup host).
 */
interface LibvirtNative extends Library {

    int VIR_DOMAIN_SAVE_RUNNING = 2;
    int VIR_DOMAIN_SAVE_PAUSED = 4;

    Pointer virConnectOpen(String uri);

    int virConnectClose(Pointer conn);

    int virDomainRestoreFlags(Pointer conn, String from, String dxml, int flags);

    String virGetLastErrorMessage();

    static LibvirtNative load() {
        return Native.load("virt", LibvirtNative.class);
    }
}
