package io.ferry.shell.seal;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.support.completers.FileCompleter;

import io.ferry.api.seal.SealStorage;

@Service
@Command(scope = "seal", name = "put", description = "Stores (or replaces) a sealed secret. "
        + "Without a value or --file it asks for the value without echoing it.")
public class PutCommand extends SealCommand {

    @Argument(index = 0, name = "name", description = "The secret's name: 1 to 128 characters of [A-Za-z0-9._-]",
            required = true)
    @Completion(SecretCompleter.class)
    String name;

    @Argument(index = 1, name = "value", description = "The secret as text (UTF-8); it stays in the console history")
    String value;

    @Option(name = "-f", aliases = "--file", description = "Read the secret's bytes from this file instead")
    @Completion(FileCompleter.class)
    String file;

    @Reference
    Session session;

    @Override
    void run(SealStorage storage) throws Exception {
        if (value != null && file != null) {
            throw new IllegalArgumentException("give the value or --file, not both");
        }
        byte[] secret;
        if (file != null) {
            secret = Files.readAllBytes(Path.of(file));
        } else if (value != null) {
            secret = value.getBytes(StandardCharsets.UTF_8);
        } else {
            String typed = session.readLine("Value of " + name + ": ", '*');
            if (typed == null) {
                throw new IllegalArgumentException("no value given");
            }
            secret = typed.getBytes(StandardCharsets.UTF_8);
        }
        storage.put(name, secret);
        System.out.println("Stored " + name + " (" + secret.length + " bytes)");
    }
}
