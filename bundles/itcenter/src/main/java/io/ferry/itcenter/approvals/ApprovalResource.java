package io.ferry.itcenter.approvals;

import java.security.cert.X509Certificate;

import javax.servlet.http.HttpServletRequest;
import javax.ws.rs.Consumes;
import javax.ws.rs.GET;
import javax.ws.rs.POST;
import javax.ws.rs.Path;
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
import io.ferry.api.seal.Approval;
import io.ferry.api.seal.ApprovalRequest;

/**
 * Seal approvals over REST.
 *
 * <pre>
 * GET  /api/v1/approvals/key                       the approval public key (PEM); public, like the CA certificate
 * POST /api/v1/approvals  {"request":"pcr.23: ..."}  an approval of the caller's own PCR values, as its latest
 *                                                  attestation proved them: {"version":8,"approval":"ferry-approval: 1..."}
 * </pre>
 *
 * The request is what {@code seal:request} prints ({@link ApprovalRequest#parse}); only an active agent
 * (client certificate) may ask, and only for itself. Refusals are 409 problem+json and audited.
 */
@Component(service = ApprovalResource.class)
@JaxrsResource
@Path("/api/v1/approvals")
public final class ApprovalResource {

    static final String CERTIFICATES = "javax.servlet.request.X509Certificate";

    /** The agent's request: seal:request's text. */
    public record Request(String request) {
    }

    /** The signed approval, in the text form seal:approve reads. */
    public record Issued(long version, String approval) {
    }

    private final SealApprovals approvals;
    private final ItCenter itCenter;

    @Context
    private HttpServletRequest http;

    @Activate
    public ApprovalResource(@Reference SealApprovals approvals, @Reference ItCenter itCenter) {
        this.approvals = approvals;
        this.itCenter = itCenter;
    }

    @GET
    @Path("key")
    @Produces("application/x-pem-file")
    public String key() {
        return approvals.publicKeyPem();
    }

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    public Issued approve(Request body) {
        Agent agent = authenticate("POST approvals");
        if (body == null || body.request() == null || body.request().isBlank()) {
            throw new ItCenterException(Reason.INVALID, "a JSON body with request (what seal:request prints) is required");
        }
        ApprovalRequest request;
        try {
            request = ApprovalRequest.parse(body.request());
        } catch (IllegalArgumentException e) {
            throw new ItCenterException(Reason.INVALID, e.getMessage());
        }
        Approval approval = approvals.approveAttested(agent.id(), request, "agent:" + agent.id());
        return new Issued(approval.version(), approval.encode());
    }

    private Agent authenticate(String action) {
        Object chain = http.getAttribute(CERTIFICATES);
        String peer = http.getRemoteAddr() + (http.isSecure() ? "" : " (plain HTTP)");
        X509Certificate[] certificates = http.isSecure() && chain instanceof X509Certificate[] c ? c : null;
        return itCenter.authenticate(certificates, action, peer);
    }
}
