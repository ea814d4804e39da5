package io.ferry.shell.itcenter;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.ferry.api.itcenter.ApprovalAuthority;
import io.ferry.shell.support.Services;

@Service
@Command(scope = "itcenter", name = "approval-key", description = "Prints the IT center's approval public key "
        + "(PEM): agents put it in etc/ferry-approval-key.pem for their seal storage. Also served at "
        + "GET /api/v1/approvals/key.")
public class ApprovalKeyCommand extends ItCenterCommand {

    @Override
    public Object execute() {
        System.out.print(Services.get(context, ApprovalAuthority.class,
                "the IT center is not running (feature ferry-itcenter)").publicKeyPem());
        return null;
    }
}
