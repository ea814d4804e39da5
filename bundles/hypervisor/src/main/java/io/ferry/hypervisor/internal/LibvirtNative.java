package io.ferry.hypervisor.internal;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/**
 * The few libvirt calls that libvirt-java does not offer, or offers too slowly, bound directly
 * through JNA. virDomainRestoreFlags is needed to restore a memory image with replacement XML (the
 * checkpoint's disk lives elsewhere on the backup host). virDomainMemoryPeek: libvirt-java 0.5.4
 * cuts every peek into 64 KiB calls (an old libvirt limit), one RPC and one QEMU pmemsave each;
 * libvirt 9 takes up to 4 MiB a call over the remote protocol.
 */
interface LibvirtNative extends Library {

    int VIR_DOMAIN_SAVE_RUNNING = 2;
    int VIR_DOMAIN_SAVE_PAUSED = 4;

    Pointer virConnectOpen(String uri);

    int virConnectClose(Pointer conn);

    int virDomainRestoreFlags(Pointer conn, String from, String dxml, int flags);

    String virGetLastErrorMessage();

    /** The most a memory peek may read in one call over the remote protocol (REMOTE_DOMAIN_MEMORY_PEEK_BUFFER_MAX). */
    int MEMORY_PEEK_MAX = 4 * 1024 * 1024;
    int VIR_MEMORY_VIRTUAL = 1;
    int VIR_MEMORY_PHYSICAL = 2;

    Pointer virDomainLookupByName(Pointer conn, String name);

    int virDomainFree(Pointer domain);

    /** {@code size} is a size_t: 64 bits on the linux-x86-64 hosts Ferry runs on. */
    int virDomainMemoryPeek(Pointer domain, long start, long size, Pointer buffer, int flags);

    static LibvirtNative load() {
        return Native.load("virt", LibvirtNative.class);
    }
}
