package io.ferry.shell.enrolment;

import java.time.Duration;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.Session;
import org.osgi.framework.BundleContext;

import io.ferry.api.enrolment.Invitation;
import io.ferry.api.enrolment.Invitations;
import io.ferry.api.itcenter.ItCenter;
import io.ferry.shell.support.Services;

@Service
@Command(scope = "itcenter", name = "invite",
        description = "Invites a device to enrol: a single-use token for its name, owner and group, shown once, with the "
                + "agent:enrol command to run on the device.")
public class InviteCommand implements Action {

    @Reference
    BundleContext context;

    @Reference(optional = true)
    Session session;

    @Argument(index = 0, name = "name", required = true, description = "The device's name: A-Z a-z 0-9 . _ -")
    String name;

    @Option(name = "-o", aliases = "--owner", required = true, description = "The device's owner")
    String owner;

    @Option(name = "-g", aliases = "--group", description = "The device group (default: personal)")
    String group = "personal";

    @Option(name = "-v", aliases = "--valid-hours", description = "How many hours the token may be used (default: 72)")
    Integer hours;

    @Override
    public Object execute() throws Exception {
        Invitations invitations = Services.get(context, Invitations.class,
                "the IT center's enrolment is not running (feature ferry-itcenter)");
        Object user = session == null ? null : session.get("USER");
        Invitation inv = invitations.invite(name, owner, group, hours == null ? null : Duration.ofHours(hours),
                "console:" + (user == null ? "unknown" : user));
        String root = "";
        ItCenter itc = Services.get(context, ItCenter.class, "the IT center is not running");
        java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
        root = java.util.HexFormat.of().formatHex(md.digest(itc.rootCertificate().getEncoded()));
        System.out.println("Invited " + inv.name() + " (owner " + inv.owner() + ", group " + inv.group()
                + "); the token is valid until " + inv.expiresAt() + " and shown only now:");
        System.out.println("  token:            " + inv.token());
        System.out.println("  IT center root:   " + root);
        System.out.println("On the device:");
        System.out.println("  agent:enrol -t " + inv.token() + " -r " + root + " https://<itcenter>:<port>/ " + inv.name());
        return null;
    }
}
