package io.ferry.api.itcenter;

import java.time.Instant;

/**
 * An agent known to the IT center.
 *
 * @param id                  the IT center's identifier of the agent (also the CN of its certificates)
 * @param name                the device's name, unique
 * @param owner               the person who owns the device
 * @param deviceGroup         the device group that migration policies name
 * @param status              whether the agent may still authenticate
 * @param registeredAt        when it was registered
 * @param certificateSerial   serial (hex) of its newest certificate, or null
 * @param certificateNotAfter end of validity of its newest certificate, or null
 * @param lastVerdict         the verdict of its last attestation, or null before the first one
 */
public record Agent(String id, String name, String owner, String deviceGroup, AgentStatus status,
        Instant registeredAt, String certificateSerial, Instant certificateNotAfter, String lastVerdict) {
}
