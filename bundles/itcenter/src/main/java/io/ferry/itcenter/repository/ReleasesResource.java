package io.ferry.itcenter.repository;

import java.security.cert.X509Certificate;
import java.util.List;

import javax.servlet.http.HttpServletRequest;
import javax.ws.rs.GET;
import javax.ws.rs.Path;
import javax.ws.rs.Produces;
import javax.ws.rs.core.Context;
import javax.ws.rs.core.MediaType;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JaxrsResource;
import org.osgi.util.tracker.ServiceTracker;

import io.ferry.api.itcenter.ItCenter;
import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.itcenter.Release;
import io.ferry.api.itcenter.ReleaseRepository;

/**
 * {@code GET /api/v1/releases}: the published feature versions and the features repository
 * ({@code mvn:} URL) each is in, for an agent with its client certificate.
 *
 * <p>The ItCenter service is tracked, not a DS reference: this component starts when the Store
 * service appears, which ItCenterService registers while it is itself being activated, so a static
 * reference to ItCenter would be circular at that moment and the JAX-RS whiteboard would give up on
 * the resource for good. Until the IT center is up, requests are answered 503.
 */
@Component(service = ReleasesResource.class)
@JaxrsResource
@Path("/api/v1/releases")
@Produces(MediaType.APPLICATION_JSON)
public final class ReleasesResource {

    private static final String CERTIFICATES = "javax.servlet.request.X509Certificate";

    private final ServiceTracker<ItCenter, ItCenter> itCenter;
    private final ReleaseRepository repository;

    @Context
    private HttpServletRequest request;

    @Activate
    public ReleasesResource(BundleContext context, @Reference ReleaseRepository repository) {
        this.itCenter = new ServiceTracker<>(context, ItCenter.class, null);
        this.itCenter.open();
        this.repository = repository;
    }

    @Deactivate
    void close() {
        itCenter.close();
    }

    @GET
    public List<Release> releases() {
        Object chain = request.getAttribute(CERTIFICATES);
        String peer = request.getRemoteAddr() + (request.isSecure() ? "" : " (plain HTTP)");
        ItCenter itc = itCenter.getService();
        if (itc == null) {
            throw new ItCenterException(ItCenterException.Reason.UNAVAILABLE, "the IT center is starting");
        }
        itc.authenticate(request.isSecure() && chain instanceof X509Certificate[] c ? c : null,
                "GET releases", peer);
        return repository.releases();
    }
}
