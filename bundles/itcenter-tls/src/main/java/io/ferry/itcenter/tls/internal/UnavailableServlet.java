package io.ferry.itcenter.tls.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

/**
 * The IT center's answer while its REST API is not there: 503 problem+json with Retry-After, registered
 * with the HTTP whiteboard as the default servlet ({@code /}) of the default context, which the JAX-RS
 * whiteboard's {@code /*} servlet shadows completely once it is registered. Without it, the HTTPS
 * connector (up at start level 30) answered the seconds of every boot until the API was registered, and
 * the moments of every shutdown after it was gone, with Jetty's HTML 404: an agent read that as "no such
 * lease" instead of "IT center unavailable", refused its primary's heartbeats and failed over a VM whose
 * primary was alive (ItCenterRestartCampaignIT, MID_CHECKPOINT).
 */
final class UnavailableServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    static final String BODY = "{\"type\":\"about:blank\",\"title\":\"unavailable\",\"status\":503,"
            + "\"detail\":\"the IT center is starting or stopping: try again\"}";

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
        byte[] body = BODY.getBytes(StandardCharsets.UTF_8);
        response.setStatus(HttpServletResponse.SC_SERVICE_UNAVAILABLE);
        response.setHeader("Retry-After", "2");
        response.setHeader("Cache-Control", "no-store");
        response.setContentType("application/problem+json");
        response.setContentLength(body.length);
        if (!"HEAD".equals(request.getMethod())) {
            response.getOutputStream().write(body);
        }
    }
}
