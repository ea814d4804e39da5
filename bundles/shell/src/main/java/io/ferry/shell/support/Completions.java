package io.ferry.shell.support;

import java.util.Collection;
import java.util.List;
import java.util.function.Supplier;

import org.apache.karaf.shell.api.console.CommandLine;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.support.completers.StringsCompleter;

/** Completion from names a service supplies: when the service is missing or fails, nothing is offered. */
public final class Completions {

    private Completions() {
    }

    public static int complete(Session session, CommandLine commandLine, List<String> candidates,
            Supplier<? extends Collection<String>> names) {
        StringsCompleter completer = new StringsCompleter();
        try {
            completer.getStrings().addAll(names.get());
        } catch (RuntimeException e) {
            // no service, or it cannot answer now (host unreachable, seal storage locked): nothing to offer
        }
        return completer.complete(session, commandLine, candidates);
    }
}
