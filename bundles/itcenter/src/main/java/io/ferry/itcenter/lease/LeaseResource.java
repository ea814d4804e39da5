package io.ferry.itcenter.lease;

import java.security.cert.X509Certificate;
import java.time.Duration;

import javax.servlet.http.HttpServletRequest;
import javax.ws.rs.Consumes;
import javax.ws.rs.DELETE;
import javax.ws.rs.GET;
import javax.ws.rs.POST;
import javax.ws.rs.Path;
import javax.ws.rs.PathParam;
import javax.ws.rs.Produces;
import javax.ws.rs.QueryParam;
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

/**
 * VM leases over REST, for agents only (client certificate of an active agent). The caller is
 * always the agent of the certificate: an agent can take, renew, hand over or release a lease
 * only for itself. A refusal is 409 problem+json naming the holder and epoch.
 *
 * <pre>
 * GET    /api/v1/leases/{vm}                                     the lease
 * POST   /api/v1/leases/{vm}/acquire   {"ttlSeconds":30}         new, released or own lease
 * POST   /api/v1/leases/{vm}/renew     {"epoch":3,"ttlSeconds":30}
 * POST   /api/v1/leases/{vm}/transfer  {"epoch":3,"to":"b","ttlSeconds":30}   hand over, or take over when expired
 * DELETE /api/v1/leases/{vm}?epoch=3                             release
 * </pre>
 */
@Component(service = LeaseResource.class)
@JaxrsResource
@Path("/api/v1/leases")
@Produces(MediaType.APPLICATION_JSON)
public final class LeaseResource {

    static final String CERTIFICATES = "javax.servlet.request.X509Certificate";

    /** The body of acquire, renew and transfer. */
    public record LeaseRequest(Long epoch, String to, Integer ttlSeconds) {
    }

    private final ItCenter itCenter;
    private final LeaseService leases;

    @Context
    private HttpServletRequest request;

    @Activate
    public LeaseResource(@Reference ItCenter itCenter, @Reference LeaseService leases) {
        this.itCenter = itCenter;
        this.leases = leases;
    }

    @GET
    @Path("{vm}")
    public Lease get(@PathParam("vm") String vm) {
        authenticate("GET leases/" + vm);
        return leases.get(vm).orElseThrow(() -> new ItCenterException(Reason.NOT_FOUND, "no lease of " + vm));
    }

    @POST
    @Path("{vm}/acquire")
    @Consumes(MediaType.APPLICATION_JSON)
    public Lease acquire(@PathParam("vm") String vm, LeaseRequest body) {
        Agent agent = authenticate("POST leases/" + vm + "/acquire");
        return leases.acquire(agent.id(), vm, ttl(body));
    }

    @POST
    @Path("{vm}/renew")
    @Consumes(MediaType.APPLICATION_JSON)
    public Lease renew(@PathParam("vm") String vm, LeaseRequest body) {
        Agent agent = authenticate("POST leases/" + vm + "/renew");
        return leases.renew(agent.id(), vm, epoch(body), ttl(body));
    }

    @POST
    @Path("{vm}/transfer")
    @Consumes(MediaType.APPLICATION_JSON)
    public Lease transfer(@PathParam("vm") String vm, LeaseRequest body) {
        Agent agent = authenticate("POST leases/" + vm + "/transfer");
        return leases.transfer(agent.id(), vm, epoch(body), body.to(), ttl(body));
    }

    @DELETE
    @Path("{vm}")
    public Lease release(@PathParam("vm") String vm, @QueryParam("epoch") Long epoch) {
        Agent agent = authenticate("DELETE leases/" + vm);
        if (epoch == null) {
            throw new ItCenterException(Reason.INVALID, "the query parameter epoch is required");
        }
        return leases.release(agent.id(), vm, epoch);
    }

    private Agent authenticate(String action) {
        Object chain = request.getAttribute(CERTIFICATES);
        String peer = request.getRemoteAddr() + (request.isSecure() ? "" : " (plain HTTP)");
        X509Certificate[] certificates = request.isSecure() && chain instanceof X509Certificate[] c ? c : null;
        return itCenter.authenticate(certificates, action, peer);
    }

    private static Duration ttl(LeaseRequest body) {
        if (body == null) {
            throw new ItCenterException(Reason.INVALID, "a JSON body is required");
        }
        return Duration.ofSeconds(body.ttlSeconds() == null ? 30 : body.ttlSeconds());
    }

    private static long epoch(LeaseRequest body) {
        if (body == null || body.epoch() == null) {
            throw new ItCenterException(Reason.INVALID, "epoch is required");
        }
        return body.epoch();
    }
}
