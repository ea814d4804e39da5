package io.ferry.api.hypervisor;

/** The host has no domain of that name. */
public class NoSuchDomainException extends HypervisorException {

    private static final long serialVersionUID = 1L;

    public NoSuchDomainException(String operation, String domain, String host) {
        super(operation, domain, operation + " " + domain + ": no such domain on " + host);
    }
}
