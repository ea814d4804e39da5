package io.ferry.itcenter.vms;

/** The VM registry on the embedded H2 file database (the default back end). */
class H2VmRegistryTest extends VmRegistryContractTest {

    @Override
    protected String newDatabaseUrl() {
        return "jdbc:h2:file:" + dir.resolve("registry").toAbsolutePath();
    }
}
