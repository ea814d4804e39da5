package io.ferry.hypervisor.internal;

import org.libvirt.Error.ErrorNumber;
import org.libvirt.LibvirtException;

import io.ferry.api.hypervisor.HypervisorException;
import io.ferry.api.hypervisor.NoSuchDomainException;

/** Turns libvirt's exceptions into Ferry's, naming the operation, the domain and the host. */
final class LibvirtErrors {

    private LibvirtErrors() {
    }

    static HypervisorException translate(String operation, String domain, String host, LibvirtException e) {
        if (e.getError() != null && e.getError().getCode() == ErrorNumber.VIR_ERR_NO_DOMAIN && domain != null) {
            return new NoSuchDomainException(operation, domain, host);
        }
        return new HypervisorException(operation, domain, describe(operation, domain, host, reason(e)), e);
    }

    static String describe(String operation, String domain, String host, String reason) {
        StringBuilder sb = new StringBuilder(operation);
        if (domain != null) {
            sb.append(' ').append(domain);
        }
        return sb.append(" on ").append(host).append(" failed: ").append(reason).toString();
    }

    static String reason(LibvirtException e) {
        String message = e.getError() != null ? e.getError().getMessage() : e.getMessage();
        return message == null ? e.toString() : message.strip();
    }
}
