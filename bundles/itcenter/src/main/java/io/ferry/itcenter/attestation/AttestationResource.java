package io.ferry.itcenter.attestation;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;

import javax.servlet.http.HttpServletRequest;
import javax.ws.rs.Consumes;
import javax.ws.rs.GET;
import javax.ws.rs.POST;
import javax.ws.rs.Path;
import javax.ws.rs.Produces;
import javax.ws.rs.QueryParam;
import javax.ws.rs.WebApplicationException;
import javax.ws.rs.core.Context;
import javax.ws.rs.core.MediaType;
import javax.ws.rs.core.Response;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JaxrsResource;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;

import io.ferry.api.attestation.AttestationRecord;
import io.ferry.api.itcenter.Agent;
import io.ferry.api.itcenter.AuditEntry;
import io.ferry.api.itcenter.ItCenter;
import io.ferry.api.itcenter.ItCenterException;
import io.ferry.attestation.wire.AttestationJson;
import io.ferry.attestation.wire.EvidenceSubmission;
import io.ferry.attestation.wire.NonceRequest;
import io.ferry.attestation.wire.WireFormatException;

/**
 * {@code /api/v1/attestation}, for agents with an IT-center client certificate:
 * <ul>
 * <li>{@code POST nonces} {@code {"agent"?, "binding"?}} → {@code {"nonce", "agent", "binding", "expiresAt"}}</li>
 * <li>{@code POST verdicts} {@code {"agent"?, "requiredLevel"?, "evidence"}} → the AttestationResult</li>
 * <li>{@code GET latest?agent=} → the agent's (default: the caller's) latest AttestationRecord, 404 if none</li>
 * <li>{@code GET ?agent=&limit=} → attestations, newest first</li>
 * </ul>
 * Bodies are read with {@link AttestationJson} (strict, at most {@value AttestationJson#MAX_DOCUMENT_CHARS}
 * bytes); a body that is not in the format is answered 400 and audited as {@code attestation.refused}.
 */
@Component(service = AttestationResource.class)
@JaxrsResource
@Path("/api/v1/attestation")
@Produces(MediaType.APPLICATION_JSON)
public final class AttestationResource {

    static final String CERTIFICATES = "javax.servlet.request.X509Certificate";

    private final ItCenter itCenter;
    private final AttestationService attestation;

    @Context
    private HttpServletRequest request;

    @Activate
    public AttestationResource(@Reference ItCenter itCenter, @Reference AttestationService attestation) {
        this.itCenter = itCenter;
        this.attestation = attestation;
    }

    @POST
    @Path("nonces")
    @Consumes(MediaType.APPLICATION_JSON)
    public String nonce(InputStream body) throws IOException {
        Agent caller = authenticate("POST attestation/nonces");
        NonceRequest r = parse(caller, body, "nonce request", f -> AttestationJson.nonceRequest(f));
        return AttestationJson.write(AttestationJson.toJson(attestation.issueNonce(caller.id(), r)));
    }

    @POST
    @Path("verdicts")
    @Consumes(MediaType.APPLICATION_JSON)
    public String verdict(InputStream body) throws IOException {
        Agent caller = authenticate("POST attestation/verdicts");
        EvidenceSubmission s = parse(caller, body, "evidence", f -> AttestationJson.submission(f));
        return AttestationJson.write(AttestationJson.toJson(attestation.submit(caller.id(), s)));
    }

    @GET
    @Path("latest")
    public String latest(@QueryParam("agent") String agent) {
        Agent caller = authenticate("GET attestation/latest");
        String id = agent == null || agent.isBlank() ? caller.id() : agent;
        AttestationRecord r = attestation.latest(id).orElseThrow(() -> new ItCenterException(
                ItCenterException.Reason.NOT_FOUND, "no attestation of agent " + id));
        return AttestationJson.write(AttestationJson.toJson(r));
    }

    @GET
    public String list(@QueryParam("agent") String agent, @QueryParam("limit") Integer limit) {
        authenticate("GET attestation");
        ArrayNode a = JsonNodeFactory.instance.arrayNode();
        attestation.attestations(agent == null || agent.isBlank() ? null : agent, limit == null ? 100 : limit)
                .forEach(r -> a.add(AttestationJson.toJson(r)));
        return AttestationJson.write(a);
    }

    private <T> T parse(Agent caller, InputStream body, String what,
            java.util.function.Function<AttestationJson.Fields, T> reader) throws IOException {
        byte[] bytes = body == null ? new byte[0] : body.readNBytes(AttestationJson.MAX_DOCUMENT_CHARS + 1);
        if (bytes.length > AttestationJson.MAX_DOCUMENT_CHARS) {
            refuse(caller, what + " larger than " + AttestationJson.MAX_DOCUMENT_CHARS + " bytes");
            throw new WebApplicationException("the body is larger than " + AttestationJson.MAX_DOCUMENT_CHARS
                    + " bytes", 413);
        }
        try {
            return AttestationJson.read(new String(bytes, StandardCharsets.UTF_8), reader);
        } catch (WireFormatException e) {
            refuse(caller, "malformed " + what + ": " + e.getMessage());
            throw new ItCenterException(ItCenterException.Reason.INVALID, "malformed " + what + ": " + e.getMessage());
        }
    }

    private void refuse(Agent caller, String detail) {
        itCenter.audit(new AuditEntry("attestation.refused", caller.id(), null, "agent:" + caller.id(),
                detail.length() > 4000 ? detail.substring(0, 4000) : detail));
    }

    private Agent authenticate(String action) {
        Object chain = request.getAttribute(CERTIFICATES);
        String peer = request.getRemoteAddr() + (request.isSecure() ? "" : " (plain HTTP)");
        X509Certificate[] certificates = request.isSecure() && chain instanceof X509Certificate[] c ? c : null;
        return itCenter.authenticate(certificates, action, peer);
    }
}
