package io.ferry.itcenter.internal;

import java.nio.file.Path;

import org.junit.jupiter.api.io.TempDir;

/** The contract on the embedded H2 file database (the default back end). */
class H2ItCenterTest extends ItCenterContractTest {

    @TempDir
    Path dir;

    @Override
    protected String newDatabaseUrl() {
        return "jdbc:h2:file:" + dir.resolve("registry").toAbsolutePath();
    }
}
