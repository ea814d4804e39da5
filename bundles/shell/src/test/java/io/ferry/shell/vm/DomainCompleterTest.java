package io.ferry.shell.vm;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class DomainCompleterTest {

    @Test
    void completesOnTheHostNamedOnTheSameLine() {
        assertThat(DomainCompleter.hostOption(new String[] { "vm:start", "-H", "b", "" })).isEqualTo("b");
        assertThat(DomainCompleter.hostOption(new String[] { "vm:migrate", "--host", "lap", "g" })).isEqualTo("lap");
    }

    @Test
    void withoutAHostOptionTheDefaultHostIsUsed() {
        assertThat(DomainCompleter.hostOption(new String[] { "vm:start", "" })).isNull();
        assertThat(DomainCompleter.hostOption(new String[] { "vm:start", "-H" })).isNull();
    }
}
