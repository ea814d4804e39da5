package io.ferry.shell.enrolment;

import java.time.Duration;
import java.time.Instant;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.osgi.framework.BundleContext;

import io.ferry.api.enrolment.AgentEnrolment;
import io.ferry.api.enrolment.EnrolmentStatus;
import io.ferry.api.itcenter.ItCenterLink;
import io.ferry.shell.support.Services;

@Service
@Command(scope = "agent", name = "status",
        description = "Whether this agent is enrolled, its id, its certificate's validity, its IT center and whether the "
                + "IT center answers with this agent's certificate.")
public class StatusCommand implements Action {

    @Reference
    BundleContext context;

    @Option(name = "-n", aliases = "--no-check", description = "Do not call the IT center")
    boolean noCheck;

    @Override
    public Object execute() {
        AgentEnrolment enrolment = Services.get(context, AgentEnrolment.class,
                "enrolment is not running (feature ferry-enrolment)");
        EnrolmentStatus s = enrolment.status();
        if (!s.enrolled()) {
            System.out.println("Enrolled:     no (agent:enrol)");
            return null;
        }
        Instant now = Instant.now();
        System.out.println("Enrolled:     yes");
        System.out.println("Agent id:     " + s.agentId());
        System.out.println("IT center:    " + s.itCenter());
        System.out.println("Root SHA-256: " + s.rootSha256());
        System.out.println("Certificate:  " + s.serial() + ", valid " + s.notBefore() + " to " + s.notAfter()
                + (now.isAfter(s.notAfter()) ? " (EXPIRED)" : " (" + Duration.between(now, s.notAfter()).toMinutes()
                        + " min left)"));
        if (!noCheck) {
            ItCenterLink link = Services.get(context, ItCenterLink.class, "the IT center link is not running");
            long t0 = System.nanoTime();
            try {
                link.call("GET", "agents/" + s.agentId(), null, Duration.ofSeconds(10));
                System.out.println("Reachable:    yes, certificate accepted ("
                        + (System.nanoTime() - t0) / 1_000_000 + " ms)");
            } catch (RuntimeException e) {
                System.out.println("Reachable:    no: " + e.getMessage());
            }
        }
        return null;
    }
}
