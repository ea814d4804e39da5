package io.ferry.shell.itcenter;

import io.ferry.api.itcenter.Agent;
import io.ferry.api.itcenter.ItCenter;

/** Finds an agent by id or name. */
final class Agents {

    private Agents() {
    }

    static Agent find(ItCenter itc, String idOrName) {
        return itc.agent(idOrName).or(() -> itc.agents().stream().filter(a -> a.name().equals(idOrName)).findFirst())
                .orElseThrow(() -> new IllegalArgumentException("no agent with id or name '" + idOrName + "'"));
    }
}
