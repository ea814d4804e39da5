package io.ferry.api.enrolment;

import java.net.URI;

/**
 * What an administrator gives to enrol an agent.
 *
 * @param itCenter   the IT center's base URI, {@code https://host:port/}
 * @param name       the device's name, as invited
 * @param token      the invitation's single-use token
 * @param group      the device group asked for, or null for the invitation's
 * @param rootSha256 the SHA-256 (hex, colons allowed) of the IT center's root certificate to pin, or null
 *                   for the one configured in {@code io.ferry.itcenter.link}
 * @param replace    whether to enrol even though this agent is enrolled already (its old identity is replaced
 *                   only once the new enrolment succeeded)
 */
public record EnrolmentRequest(URI itCenter, String name, String token, String group, String rootSha256,
        boolean replace) {
}
