package io.ferry.hypervisor.internal;

import org.libvirt.Connect;
import org.libvirt.LibvirtException;

import com.sun.jna.Pointer;

/**
 * A libvirt-java connection whose native {@code virConnectPtr} Ferry can hand to the calls it binds
 * itself ({@link LibvirtNative}) on the same connection: libvirt-java keeps it in a protected field.
 */
final class NativeConnect extends Connect {

    NativeConnect(String uri, boolean readOnly) throws LibvirtException {
        super(uri, readOnly);
    }

    /** The native connection; valid until this connection is closed. */
    Pointer pointer() {
        return vcp.getPointer();
    }
}
