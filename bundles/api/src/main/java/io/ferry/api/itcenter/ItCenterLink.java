package io.ferry.api.itcenter;

import java.net.URI;
import java.time.Duration;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The agent's authenticated link to its IT center: JSON over HTTPS, this agent's certificate as
 * the client certificate, the IT center's root as the only trust anchor. Every agent-side area
 * (attestation, policy audit, checkpoint leases, updates) talks to the IT center through it, so
 * that the TLS set-up, the problem+json error mapping and the retries live in one place.
 */
@ProviderType
public interface ItCenterLink {

    /** The IT center's base URI, e.g. {@code https://itcenter.example:8443/}. */
    URI uri();

    /** Whether this agent has an IT-center certificate to call with (it has enrolled). */
    boolean enrolled();

    /**
     * Sends one request to {@code /api/v1/<path>} and returns the response body.
     *
     * @param method   {@code GET}, {@code POST}, {@code PUT} or {@code DELETE}
     * @param path     below {@code /api/v1/}, with its query string, e.g. {@code attestation/nonce}
     * @param json     the request body, or null for none
     * @param timeout  the whole request's deadline
     * @return the response body (JSON, possibly empty)
     * @throws AccessDeniedException when the IT center refuses this agent's certificate (401, 403)
     * @throws ItCenterException     for any other error answer, with the problem's detail as the
     *                               message and the reason from its status (400 INVALID, 404
     *                               NOT_FOUND, 409 CONFLICT), or UNAVAILABLE when the IT center
     *                               cannot be reached, answers 5xx, or the agent has not enrolled
     */
    String call(String method, String path, String json, Duration timeout);
}
