package io.ferry.itcenter.rest;

import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;

import javax.servlet.http.HttpServletRequest;
import javax.ws.rs.Consumes;
import javax.ws.rs.GET;
import javax.ws.rs.NotFoundException;
import javax.ws.rs.POST;
import javax.ws.rs.Path;
import javax.ws.rs.PathParam;
import javax.ws.rs.Produces;
import javax.ws.rs.QueryParam;
import javax.ws.rs.core.Context;
import javax.ws.rs.core.MediaType;
import javax.ws.rs.core.Response;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JaxrsResource;

import io.ferry.api.itcenter.Agent;
import io.ferry.api.itcenter.AuditEntry;
import io.ferry.api.itcenter.AuditEvent;
import io.ferry.api.itcenter.AuditQuery;
import io.ferry.api.itcenter.IssuedCertificate;
import io.ferry.api.itcenter.ItCenter;
import io.ferry.api.itcenter.ItCenterException;

/**
 * The IT center's API, version 1. Every call except the CRL and the root certificate needs a
 * client certificate of an active agent; a refused one is answered 401 or 403 as problem+json,
 * writes nothing, and is in the audit log.
 */
@Component(service = ApiResource.class)
@JaxrsResource
@Path("/api/v1")
@Produces(MediaType.APPLICATION_JSON)
public final class ApiResource {

    static final String CERTIFICATES = "javax.servlet.request.X509Certificate";

    /** An agent's event about itself. */
    public record NewAuditEvent(String kind, String vm, String detail) {
    }

    /** A renewal request. */
    public record RenewRequest(String csr) {
    }

    private final ItCenter itCenter;

    @Context
    private HttpServletRequest request;

    @Activate
    public ApiResource(@Reference ItCenter itCenter) {
        this.itCenter = itCenter;
    }

    @GET
    @Path("agents")
    public List<Agent> agents() {
        authenticate("GET agents");
        return itCenter.agents();
    }

    @GET
    @Path("agents/{id}")
    public Agent agent(@PathParam("id") String id) {
        authenticate("GET agents/" + id);
        return itCenter.agent(id).orElseThrow(() -> new NotFoundException("no agent " + id));
    }

    @POST
    @Path("audit")
    @Consumes(MediaType.APPLICATION_JSON)
    public Response appendAudit(NewAuditEvent event) {
        Agent agent = authenticate("POST audit");
        if (event == null) {
            throw new ItCenterException(ItCenterException.Reason.INVALID, "a JSON body is required");
        }
        AuditEvent stored = itCenter.audit(new AuditEntry(event.kind(), agent.id(), event.vm(), "agent:" + agent.id(),
                event.detail()));
        return Response.status(201).entity(stored).build();
    }

    @GET
    @Path("audit")
    public List<AuditEvent> audit(@QueryParam("agent") String agent, @QueryParam("vm") String vm,
            @QueryParam("kind") String kind, @QueryParam("since") String since, @QueryParam("limit") Integer limit) {
        authenticate("GET audit");
        Instant from;
        try {
            from = since == null || since.isBlank() ? null : Instant.parse(since);
        } catch (DateTimeParseException e) {
            throw new ItCenterException(ItCenterException.Reason.INVALID, "since: an ISO-8601 instant, e.g. 2025-01-31T12:00:00Z");
        }
        return itCenter.audit(new AuditQuery(blankToNull(agent), blankToNull(vm), blankToNull(kind), from,
                limit == null ? 1000 : limit));
    }

    @POST
    @Path("certificates/renew")
    @Consumes(MediaType.APPLICATION_JSON)
    public IssuedCertificate renew(RenewRequest renew) {
        Agent agent = authenticate("POST certificates/renew");
        if (renew == null) {
            throw new ItCenterException(ItCenterException.Reason.INVALID, "a JSON body is required");
        }
        return itCenter.renew(agent.id(), renew.csr(), "agent:" + agent.id());
    }

    @GET
    @Path("crl")
    @Produces("application/pkix-crl")
    public byte[] crl() {
        return itCenter.crl();
    }

    @GET
    @Path("ca")
    @Produces("application/pkix-cert")
    public byte[] rootCertificate() throws CertificateEncodingException {
        return itCenter.rootCertificate().getEncoded();
    }

    private Agent authenticate(String action) {
        Object chain = request.getAttribute(CERTIFICATES);
        String peer = request.getRemoteAddr() + (request.isSecure() ? "" : " (plain HTTP)");
        X509Certificate[] certificates = request.isSecure() && chain instanceof X509Certificate[] c ? c : null;
        return itCenter.authenticate(certificates, action, peer);
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }
}
