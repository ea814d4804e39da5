package io.ferry.shell.enrolment;

import java.net.URI;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.osgi.framework.BundleContext;

import io.ferry.api.enrolment.AgentEnrolment;
import io.ferry.api.enrolment.EnrolmentException;
import io.ferry.api.enrolment.EnrolmentRequest;
import io.ferry.api.enrolment.EnrolmentStatus;
import io.ferry.shell.support.Services;

@Service
@Command(scope = "agent", name = "enrol",
        description = "Enrols this agent at an IT center: the TPM proves its EK and attestation key, a quote binds a new "
                + "TLS key to the platform, and the certificate the IT center issues is kept with the key in seal storage.")
public class EnrolCommand implements Action {

    @Reference
    BundleContext context;

    @Argument(index = 0, name = "itcenter-url", required = true, description = "The IT center, e.g. https://itcenter:8443/")
    String url;

    @Argument(index = 1, name = "name", required = true, description = "This device's name, as invited")
    String name;

    @Option(name = "-t", aliases = "--token", description = "The invitation's token (itcenter:invite on the IT center)")
    String token;

    @Option(name = "-g", aliases = "--group", description = "The device group (default: the invitation's)")
    String group;

    @Option(name = "-r", aliases = "--root-sha256",
            description = "SHA-256 of the IT center's root certificate to trust (default: io.ferry.itcenter.link's)")
    String rootSha256;

    @Option(name = "-f", aliases = "--force", description = "Enrol again although enrolled already")
    boolean force;

    @Override
    public Object execute() {
        AgentEnrolment enrolment = Services.get(context, AgentEnrolment.class,
                "enrolment is not running (feature ferry-enrolment; it needs the TPM, seal storage and attestation)");
        URI uri;
        try {
            uri = URI.create(url);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not a URL: " + url);
        }
        try {
            EnrolmentStatus s = enrolment.enrol(new EnrolmentRequest(uri, name, token, group, rootSha256, force),
                    line -> {
                        System.out.println("  " + line);
                        System.out.flush();
                    });
            System.out.println("Enrolled: agent " + s.agentId() + ", certificate valid until " + s.notAfter());
        } catch (EnrolmentException e) {
            throw new IllegalStateException("Enrolment failed (" + e.reason().name().toLowerCase() + "): "
                    + e.getMessage().replace('\n', ' '), e);
        }
        return null;
    }
}
