package io.ferry.itcenter.rest;

import javax.ws.rs.WebApplicationException;
import javax.ws.rs.core.Response;
import javax.ws.rs.ext.ExceptionMapper;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JaxrsExtension;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JaxrsName;

import io.ferry.api.itcenter.AccessDeniedException;
import io.ferry.api.itcenter.ItCenterException;

/** Every error of the API as {@code application/problem+json} (RFC 9457). */
@Component(service = ExceptionMapper.class)
@JaxrsExtension
@JaxrsName("ferry-itcenter-problems")
public final class Problems implements ExceptionMapper<Exception> {

    static final String PROBLEM_JSON = "application/problem+json";

    /** The body of an error answer. */
    public record Problem(String type, String title, int status, String detail) {
    }

    @Override
    public Response toResponse(Exception e) {
        if (e instanceof AccessDeniedException a) {
            int status = a.reason() == AccessDeniedException.Reason.NO_CERTIFICATE ? 401 : 403;
            return problem(status, "access refused: " + a.reason().name().toLowerCase().replace('_', ' '),
                    a.getMessage());
        }
        if (e instanceof ItCenterException i) {
            return switch (i.reason()) {
                case INVALID -> problem(400, "invalid request", i.getMessage());
                case NOT_FOUND -> problem(404, "not found", i.getMessage());
                case CONFLICT -> problem(409, "conflict", i.getMessage());
                case UNAVAILABLE -> problem(503, "unavailable", i.getMessage());
            };
        }
        if (e instanceof WebApplicationException w) {
            int status = w.getResponse().getStatus();
            return problem(status, Response.Status.fromStatusCode(status) == null ? "error"
                    : Response.Status.fromStatusCode(status).getReasonPhrase(), w.getMessage());
        }
        return problem(500, "internal error", e.getClass().getSimpleName());
    }

    static Response problem(int status, String title, String detail) {
        return Response.status(status).type(PROBLEM_JSON)
                .entity(new Problem("about:blank", title, status, detail)).build();
    }
}
