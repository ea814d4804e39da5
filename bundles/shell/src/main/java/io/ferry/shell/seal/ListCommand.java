package io.ferry.shell.seal;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.ferry.api.seal.SealStorage;

@Service
@Command(scope = "seal", name = "list", description = "Lists the names of the sealed secrets.")
public class ListCommand extends SealCommand {

    @Override
    void run(SealStorage storage) {
        storage.list().forEach(System.out::println);
    }
}
