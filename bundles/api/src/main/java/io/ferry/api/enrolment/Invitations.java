package io.ferry.api.enrolment;

import java.time.Duration;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The IT center's side of enrolment, for its administrators: an invitation authorises exactly one
 * enrolment of the named device, for its owner and group, until it expires. Enrolment itself is the
 * IT center's REST API ({@code /api/v1/enrolment}).
 */
@ProviderType
public interface Invitations {

    /**
     * Invites a device; the token is shown once and stored only as its hash.
     *
     * @param name     the device's name, 1 to 64 characters of {@code [A-Za-z0-9._-]}, not yet registered
     * @param owner    the device's owner
     * @param group    its device group
     * @param validity how long the token may be used
     * @param actor    who invited, for the audit log
     * @throws io.ferry.api.itcenter.ItCenterException INVALID or CONFLICT (the name is taken)
     */
    Invitation invite(String name, String owner, String group, Duration validity, String actor);
}
