package io.ferry.shell.itcenter;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;

import io.ferry.api.policy.PolicyProvisioning;
import io.ferry.api.policy.PublishedVm;
import io.ferry.shell.support.Services;

@Service
@Command(scope = "itcenter", name = "vms", description = "Lists the VM images the IT center published, with the "
        + "version of each one's signed policy.")
public class VmsCommand extends ItCenterCommand {

    @Option(name = "-k", aliases = "--key", description = "Print the policy-signing public key (PEM) instead: the "
            + "file agents install as etc/ferry-policy-key.pem")
    boolean key;

    @Override
    public Object execute() {
        PolicyProvisioning vms = Services.get(context, PolicyProvisioning.class,
                "the IT center's VM registry is not running (feature ferry-itcenter; log:display shows why)");
        if (key) {
            System.out.println("Policy key " + vms.policyKeyId() + " (ES256):");
            System.out.print(vms.policyKeyPem());
            return null;
        }
        ShellTable table = new ShellTable();
        table.column("VM");
        table.column("UUID");
        table.column("Image");
        table.column("Owner");
        table.column("Version");
        table.column("Published");
        table.column("By");
        for (PublishedVm v : vms.vms()) {
            table.addRow().addContent(v.name(), v.uuid(), v.imageDigest(), v.owner(), v.version(), v.publishedAt(),
                    v.publishedBy());
        }
        table.print(System.out);
        return null;
    }
}
