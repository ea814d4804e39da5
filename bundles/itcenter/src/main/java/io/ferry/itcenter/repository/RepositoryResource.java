package io.ferry.itcenter.repository;

import javax.ws.rs.GET;
import javax.ws.rs.NotFoundException;
import javax.ws.rs.Path;
import javax.ws.rs.PathParam;
import javax.ws.rs.WebApplicationException;
import javax.ws.rs.core.Response;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JaxrsResource;

import io.ferry.api.itcenter.ItCenterException;

/**
 * The features repository over the IT center's HTTPS, read-only, for pax-url and any Maven
 * resolver: {@code GET /repository/<Maven path>}. No client certificate is needed (see
 * docs/itcenter.md: pax-url offers one only from JVM-wide key stores; what an agent installs is
 * checked against the reference values when it is attested); there is no write path over HTTP.
 */
@Component(service = RepositoryResource.class)
@JaxrsResource
@Path("/repository")
public final class RepositoryResource {

    private final RepositoryService repository;

    @Activate
    public RepositoryResource(@Reference RepositoryService repository) {
        this.repository = repository;
    }

    @GET
    @Path("{path: .+}")
    public Response get(@PathParam("path") String path) {
        RepositoryService.Served s;
        try {
            s = repository.read(path).orElseThrow(() -> new NotFoundException("nothing is published at " + path));
        } catch (ItCenterException e) {
            // 500, not the 503 of UNAVAILABLE: Maven resolvers retry a 503 with growing pauses
            throw new WebApplicationException(e.getMessage(), 500);
        }
        return Response.ok(s.content(), s.mediaType()).header("Cache-Control", "no-cache").build();
    }
}
