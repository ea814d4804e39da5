package io.ferry.itcenter.enrolment;

import javax.servlet.http.HttpServletRequest;
import javax.ws.rs.Consumes;
import javax.ws.rs.POST;
import javax.ws.rs.Path;
import javax.ws.rs.Produces;
import javax.ws.rs.core.Context;
import javax.ws.rs.core.MediaType;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JaxrsResource;

import io.ferry.api.itcenter.ItCenterException;

/**
 * Enrolment over HTTPS. These two calls come without a client certificate (the agent has none yet):
 * they are authorised by the invitation's token and the TPM's proofs, and refused over plain HTTP.
 */
@Component(service = EnrolmentResource.class)
@JaxrsResource
@Path("/api/v1/enrolment")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
public final class EnrolmentResource {

    private final EnrolmentService enrolment;

    @Context
    private HttpServletRequest request;

    @Activate
    public EnrolmentResource(@Reference EnrolmentService enrolment) {
        this.enrolment = enrolment;
    }

    @POST
    @Path("challenge")
    public EnrolmentService.Challenge challenge(EnrolmentService.ChallengeRequest body) {
        return enrolment.challenge(body, peer());
    }

    @POST
    @Path("complete")
    public EnrolmentService.Enrolled complete(EnrolmentService.Completion body) {
        return enrolment.complete(body, peer());
    }

    private String peer() {
        if (!request.isSecure()) {
            throw new ItCenterException(ItCenterException.Reason.INVALID, "enrolment only over HTTPS");
        }
        return request.getRemoteAddr();
    }
}
