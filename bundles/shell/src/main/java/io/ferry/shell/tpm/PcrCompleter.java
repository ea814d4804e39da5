package io.ferry.shell.tpm;

import java.util.List;
import java.util.stream.IntStream;

import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.CommandLine;
import org.apache.karaf.shell.api.console.Completer;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.support.completers.StringsCompleter;

/** Completes PCR indexes 0 to 23. */
@Service
public class PcrCompleter implements Completer {

    @Override
    public int complete(Session session, CommandLine commandLine, List<String> candidates) {
        return new StringsCompleter(IntStream.rangeClosed(0, 23).mapToObj(String::valueOf).toList())
                .complete(session, commandLine, candidates);
    }
}
