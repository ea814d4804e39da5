package io.ferry.shell.seal;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.completers.FileCompleter;

import io.ferry.api.seal.SealStatus;
import io.ferry.api.seal.SealStorage;

@Service
@Command(scope = "seal", name = "rotate", description = "Seals a new key-encryption key and re-encrypts every "
        + "secret under it; with an approval file, installs that approval first.")
public class RotateCommand extends SealCommand {

    @Argument(index = 0, name = "approval-file", description = "An approval to install first (optional)")
    @Completion(FileCompleter.class)
    String file;

    @Override
    void run(SealStorage storage) {
        storage.rotate(file == null ? null : readApproval(file));
        SealStatus s = storage.status();
        System.out.println("Rotated: KEK generation " + s.kekGeneration() + ", " + s.secrets()
                + " secrets re-encrypted");
    }
}
