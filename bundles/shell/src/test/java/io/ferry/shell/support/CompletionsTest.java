package io.ferry.shell.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.apache.karaf.shell.api.console.CommandLine;
import org.junit.jupiter.api.Test;

class CompletionsTest {

    @Test
    void offersTheSuppliedNamesThatMatchWhatIsTyped() {
        List<String> candidates = new ArrayList<>();
        Completions.complete(null, typed("vm:start de"), candidates, () -> List.of("demo-vm", "desk", "other"));
        assertThat(candidates).extracting(String::strip).containsExactlyInAnyOrder("demo-vm", "desk");
    }

    @Test
    void aServiceThatIsMissingOrFailingOffersNothing() {
        List<String> candidates = new ArrayList<>();
        Completions.complete(null, typed("vm:start "), candidates, () -> {
            throw new IllegalStateException("no hypervisor is configured");
        });
        assertThat(candidates).isEmpty();
    }

    /** A command line whose cursor is at the end of its last word. */
    private static CommandLine typed(String buffer) {
        String[] args = buffer.split(" ", -1);
        String last = args[args.length - 1];
        return new CommandLine() {
            @Override
            public int getCursorArgumentIndex() {
                return args.length - 1;
            }

            @Override
            public String getCursorArgument() {
                return last;
            }

            @Override
            public int getArgumentPosition() {
                return last.length();
            }

            @Override
            public String[] getArguments() {
                return args;
            }

            @Override
            public int getBufferPosition() {
                return buffer.length();
            }

            @Override
            public String getBuffer() {
                return buffer;
            }
        };
    }
}
