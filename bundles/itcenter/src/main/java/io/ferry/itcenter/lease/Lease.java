package io.ferry.itcenter.lease;

import java.time.Instant;

/**
 * A VM's lease as the IT center holds it.
 *
 * @param vm        the VM
 * @param holder    the agent that may run it, or null after a release
 * @param epoch     increases by one every time the lease changes hands; never goes back
 * @param expiresAt until when the holder's claim stands without a renewal
 * @param expired   whether that time has passed (by the IT center's clock)
 */
public record Lease(String vm, String holder, long epoch, Instant expiresAt, boolean expired) {
}
