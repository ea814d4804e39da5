package io.ferry.api.enrolment;

import java.time.Instant;

/**
 * A single-use enrolment token for one device.
 *
 * @param name      the device's name
 * @param owner     its owner
 * @param group     its device group
 * @param token     the secret token (shown once)
 * @param expiresAt when it stops being accepted
 */
public record Invitation(String name, String owner, String group, String token, Instant expiresAt) {
}
