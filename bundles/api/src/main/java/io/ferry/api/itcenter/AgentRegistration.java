package io.ferry.api.itcenter;

/**
 * What an administrator gives to register an agent before attested enrolment exists.
 *
 * @param name         the device's name: 1 to 64 characters of {@code [A-Za-z0-9._-]}
 * @param owner        the device's owner
 * @param deviceGroup  the device group
 * @param publicKeyPem the agent's TLS key: a PKCS#10 request ({@code CERTIFICATE REQUEST}) or a
 *                     bare {@code PUBLIC KEY}, PEM encoded
 */
public record AgentRegistration(String name, String owner, String deviceGroup, String publicKeyPem) {
}
