package io.ferry.api.hypervisor;

/** The life-cycle state of a domain, as libvirt reports it. */
public enum DomainState {
    NOSTATE, RUNNING, BLOCKED, PAUSED, SHUTDOWN, SHUTOFF, CRASHED, PMSUSPENDED;

    /** True while the guest has a QEMU process on this host. */
    public boolean isActive() {
        return this != SHUTOFF && this != NOSTATE;
    }
}
