package io.ferry.itcenter.approvals;

import javax.ws.rs.GET;
import javax.ws.rs.Path;
import javax.ws.rs.Produces;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JaxrsResource;

/**
 * {@code GET /api/v1/approvals/key}: the approval public key (PEM), which agents configure as seal
 * storage's approval key. Public, like the CA certificate: it verifies, it does not grant.
 */
@Component(service = ApprovalResource.class)
@JaxrsResource
@Path("/api/v1/approvals")
public final class ApprovalResource {

    private final SealApprovals approvals;

    @Activate
    public ApprovalResource(@Reference SealApprovals approvals) {
        this.approvals = approvals;
    }

    @GET
    @Path("key")
    @Produces("application/x-pem-file")
    public String key() {
        return approvals.publicKeyPem();
    }
}
