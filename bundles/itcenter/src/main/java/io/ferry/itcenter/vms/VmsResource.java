package io.ferry.itcenter.vms;

import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;

import javax.servlet.http.HttpServletRequest;
import javax.ws.rs.GET;
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
import io.ferry.api.itcenter.AuditEntry;
import io.ferry.api.itcenter.ItCenter;
import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.policy.PublishedVm;

/**
 * The VM registry's API: agents fetch a VM's signed policy (client certificate required; the fetch
 * is in the audit log as {@code policy.fetched}), and anyone may read the policy-signing public key,
 * which is public (an agent still trusts only the key its operator configured).
 */
@Component(service = VmsResource.class)
@JaxrsResource
@Path("/api/v1/vms")
@Produces(MediaType.APPLICATION_JSON)
public final class VmsResource {

    static final String CERTIFICATES = "javax.servlet.request.X509Certificate";

    /** A published VM as the API shows it; {@code jws} is the signed policy. */
    public record VmPolicy(String name, String uuid, String imageDigest, String owner, long version, String keyId,
            Instant publishedAt, String jws) {

        static VmPolicy of(PublishedVm v, boolean withJws) {
            return new VmPolicy(v.name(), v.uuid(), v.imageDigest(), v.owner(), v.version(), v.keyId(),
                    v.publishedAt(), withJws ? v.jws() : null);
        }
    }

    /** The policy-signing public key. */
    public record PolicyKeyInfo(String alg, String kid, String pem) {
    }

    private final ItCenter itCenter;
    private final VmRegistry registry;

    @Context
    private HttpServletRequest request;

    @Activate
    public VmsResource(@Reference ItCenter itCenter, @Reference VmRegistry registry) {
        this.itCenter = itCenter;
        this.registry = registry;
    }

    @GET
    public List<VmPolicy> vms() {
        authenticate("GET vms");
        return registry.vms().stream().map(v -> VmPolicy.of(v, false)).toList();
    }

    @GET
    @Path("policy-key")
    public PolicyKeyInfo policyKey() {
        return new PolicyKeyInfo("ES256", registry.policyKeyId(), registry.policyKeyPem());
    }

    @GET
    @Path("{vm}/policy")
    public VmPolicy policy(@PathParam("vm") String vm) {
        Agent agent = authenticate("GET vms/" + vm + "/policy");
        PublishedVm v = registry.vm(vm).orElseThrow(() -> new ItCenterException(ItCenterException.Reason.NOT_FOUND,
                "no VM '" + vm + "' is published"));
        itCenter.audit(new AuditEntry("policy.fetched", agent.id(), v.uuid(), "agent:" + agent.id(),
                "name=" + v.name() + " version=" + v.version()));
        return VmPolicy.of(v, true);
    }

    private Agent authenticate(String action) {
        Object chain = request.getAttribute(CERTIFICATES);
        String peer = request.getRemoteAddr() + (request.isSecure() ? "" : " (plain HTTP)");
        X509Certificate[] certificates = request.isSecure() && chain instanceof X509Certificate[] c ? c : null;
        return itCenter.authenticate(certificates, action, peer);
    }
}
