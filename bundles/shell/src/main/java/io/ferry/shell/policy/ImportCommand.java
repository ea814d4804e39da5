package io.ferry.shell.policy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.completers.FileCompleter;

import io.ferry.api.policy.Policy;
import io.ferry.api.policy.PolicyService;
import io.ferry.api.policy.SignedPolicy;

@Service
@Command(scope = "policy", name = "import", description = "Imports a policy file signed by the IT center (a JWS, "
        + "as provisioned with the VM image): checks the signature against the configured IT center key, the "
        + "document, and that it is not older than the policy held for that VM, then stores it sealed.")
public class ImportCommand extends PolicyCommand {

    @Argument(index = 0, name = "file", description = "The signed policy file (JWS compact form)", required = true)
    @Completion(FileCompleter.class)
    String file;

    @Override
    void run(PolicyService service) {
        String jws;
        try {
            jws = Files.readString(Path.of(file), StandardCharsets.US_ASCII);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("no file " + file, e);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + file + ": " + e, e);
        }
        Map<String, Long> held = new HashMap<>();
        for (SignedPolicy h : service.list()) {
            held.put(h.policy().vm().uuid(), h.policy().version());
        }
        SignedPolicy s = service.importPolicy(jws);
        Policy p = s.policy();
        Long before = held.get(p.vm().uuid());
        String what = before == null ? "Imported" : before == p.version() ? "Already held" : "Updated (from version "
                + before + ")";
        System.out.printf("%s: policy version %d for VM %s (%s), owner %s, %d rules, signed by %s%n", what,
                p.version(), p.vm().name(), p.vm().uuid(), p.owner(), p.rules().size(), s.keyId());
    }
}
