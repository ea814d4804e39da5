package io.ferry.shell.itcenter;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.completers.FileCompleter;
import org.apache.karaf.shell.api.action.Completion;

import io.ferry.api.itcenter.AgentRegistration;
import io.ferry.api.itcenter.Enrolment;

@Service
@Command(scope = "itcenter", name = "register-agent",
        description = "Registers an agent by its TLS key (a PEM certificate request or public key) and issues its first "
                + "certificate. Until attested enrolment exists, the administrator vouches for the device.")
public class RegisterAgentCommand extends ItCenterCommand {

    @Argument(index = 0, name = "name", required = true, description = "The device's name, unique: A-Z a-z 0-9 . _ -")
    String name;

    @Argument(index = 1, name = "key", required = true,
            description = "File with the agent's PEM CERTIFICATE REQUEST or PUBLIC KEY")
    @Completion(FileCompleter.class)
    String keyFile;

    @Option(name = "-o", aliases = "--owner", required = true, description = "The device's owner")
    String owner;

    @Option(name = "-g", aliases = "--group", description = "The device group (default: personal)")
    String group = "personal";

    @Option(name = "-c", aliases = "--certificate-out",
            description = "Write the certificate chain (PEM) to this file instead of printing it")
    String out;

    @Override
    public Object execute() throws Exception {
        String pem = Files.readString(Path.of(keyFile), StandardCharsets.US_ASCII);
        Enrolment e = itCenter().registerAgent(new AgentRegistration(name, owner, group, pem), actor());
        System.out.println("Registered agent " + e.agent().name() + " with id " + e.agent().id()
                + "; certificate " + e.certificate().serial() + " valid until " + e.certificate().notAfter());
        if (out != null) {
            Files.writeString(Path.of(out), e.certificate().pem(), StandardCharsets.US_ASCII);
            System.out.println("Certificate chain written to " + out);
        } else {
            System.out.print(e.certificate().pem());
        }
        return null;
    }
}
