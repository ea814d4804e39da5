package io.ferry.hypervisor.internal;

import org.libvirt.DomainInfo;

import io.ferry.api.hypervisor.DomainState;

final class DomainStates {

    private DomainStates() {
    }

    static DomainState of(DomainInfo.DomainState state) {
        if (state == null) {
            return DomainState.NOSTATE;
        }
        return switch (state) {
            case VIR_DOMAIN_RUNNING -> DomainState.RUNNING;
            case VIR_DOMAIN_BLOCKED -> DomainState.BLOCKED;
            case VIR_DOMAIN_PAUSED -> DomainState.PAUSED;
            case VIR_DOMAIN_SHUTDOWN -> DomainState.SHUTDOWN;
            case VIR_DOMAIN_SHUTOFF -> DomainState.SHUTOFF;
            case VIR_DOMAIN_CRASHED -> DomainState.CRASHED;
            case VIR_DOMAIN_PMSUSPENDED -> DomainState.PMSUSPENDED;
            default -> DomainState.NOSTATE;
        };
    }
}
