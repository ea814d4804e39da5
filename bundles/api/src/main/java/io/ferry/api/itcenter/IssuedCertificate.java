package io.ferry.api.itcenter;

import java.time.Instant;

/**
 * A certificate the IT center issued.
 *
 * @param agentId   the agent it was issued to
 * @param serial    its serial number, lower-case hex
 * @param notBefore start of validity
 * @param notAfter  end of validity
 * @param pem       the certificate followed by the IT center's root certificate, PEM encoded
 */
public record IssuedCertificate(String agentId, String serial, Instant notBefore, Instant notAfter, String pem) {
}
