package io.ferry.itcenter.updates;

import java.security.cert.X509Certificate;
import java.util.List;

import javax.servlet.http.HttpServletRequest;
import javax.ws.rs.Consumes;
import javax.ws.rs.GET;
import javax.ws.rs.POST;
import javax.ws.rs.Path;
import javax.ws.rs.PathParam;
import javax.ws.rs.Produces;
import javax.ws.rs.core.Context;
import javax.ws.rs.core.MediaType;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JaxrsResource;

import io.ferry.api.itcenter.Agent;
import io.ferry.api.itcenter.ItCenter;
import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.itcenter.ItCenterException.Reason;
import io.ferry.api.updates.Update;
import io.ferry.api.updates.UpdateCenter;
import io.ferry.api.updates.UpdateState;

/**
 * Pushed updates over REST, for agents only (client certificate of an active agent); an agent sees
 * and reports only its own updates.
 *
 * <pre>
 * GET  /api/v1/updates/pending                                    this agent's pending updates, oldest first
 * GET  /api/v1/updates                                            this agent's updates, newest first
 * POST /api/v1/updates/{id}/result  {"state":"APPLIED","detail":"..."}   its outcome (409 if already reported)
 * </pre>
 */
@Component(service = UpdatesResource.class)
@JaxrsResource
@Path("/api/v1/updates")
@Produces(MediaType.APPLICATION_JSON)
public final class UpdatesResource {

    static final String CERTIFICATES = "javax.servlet.request.X509Certificate";

    /** An agent's outcome. */
    public record Result(String state, String detail) {
    }

    private final ItCenter itCenter;
    private final UpdateCenter updates;

    @Context
    private HttpServletRequest request;

    @Activate
    public UpdatesResource(@Reference ItCenter itCenter, @Reference UpdateCenter updates) {
        this.itCenter = itCenter;
        this.updates = updates;
    }

    @GET
    @Path("pending")
    public List<Update> pending() {
        return updates.pending(authenticate("GET updates/pending").id());
    }

    @GET
    public List<Update> mine() {
        return updates.updates(authenticate("GET updates").id(), 100);
    }

    @POST
    @Path("{id}/result")
    @Consumes(MediaType.APPLICATION_JSON)
    public Update result(@PathParam("id") long id, Result result) {
        Agent agent = authenticate("POST updates/" + id + "/result");
        if (result == null || result.state() == null) {
            throw new ItCenterException(Reason.INVALID, "a JSON body with state (APPLIED or FAILED) is required");
        }
        UpdateState state;
        try {
            state = UpdateState.valueOf(result.state());
        } catch (IllegalArgumentException e) {
            throw new ItCenterException(Reason.INVALID, "state: APPLIED or FAILED, not " + result.state());
        }
        return updates.report(agent.id(), id, state, result.detail());
    }

    private Agent authenticate(String action) {
        Object chain = request.getAttribute(CERTIFICATES);
        String peer = request.getRemoteAddr() + (request.isSecure() ? "" : " (plain HTTP)");
        X509Certificate[] certificates = request.isSecure() && chain instanceof X509Certificate[] c ? c : null;
        return itCenter.authenticate(certificates, action, peer);
    }
}
