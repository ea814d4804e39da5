package io.ferry.api.hypervisor;

/**
 * A hypervisor operation failed. The message names the operation, the domain (when there is one)
 * and the host, then libvirt's own reason.
 */
public class HypervisorException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String operation;
    private final String domain;

    public HypervisorException(String operation, String domain, String message, Throwable cause) {
        super(message, cause);
        this.operation = operation;
        this.domain = domain;
    }

    public HypervisorException(String operation, String domain, String message) {
        this(operation, domain, message, null);
    }

    /** The operation that failed, e.g. {@code migrate}. */
    public String operation() {
        return operation;
    }

    /** The domain it was about, or null. */
    public String domain() {
        return domain;
    }
}
