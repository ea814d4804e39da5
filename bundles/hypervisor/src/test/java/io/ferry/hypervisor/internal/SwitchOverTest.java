package io.ferry.hypervisor.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SwitchOverTest {

    @Test
    void aimsLowFirstButNeverAboveTheConfiguredMaximum() {
        assertThat(SwitchOver.initialLimit(300)).isEqualTo(30);
        assertThat(SwitchOver.initialLimit(20)).isEqualTo(20);
    }

    @Test
    void relaxesToTheMaximumOnlyWhenTheGuestDoesNotConverge() {
        assertThat(SwitchOver.relax(300, -1)).isFalse(); // no statistics yet
        assertThat(SwitchOver.relax(300, 1)).isFalse();
        assertThat(SwitchOver.relax(300, 4)).isFalse();
        assertThat(SwitchOver.relax(300, 5)).isTrue();
        assertThat(SwitchOver.relax(20, 9)).isFalse(); // the limit is the configured one already
    }
}
