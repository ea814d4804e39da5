package io.ferry.itests;

import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;

import java.util.ArrayList;
import java.util.List;

import org.apache.karaf.itests.KarafTestSupport;
import org.junit.Rule;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.CoreOptions;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.container.remote.RBCRemoteTargetOptions;
import org.ops4j.pax.exam.options.MavenArtifactUrlReference;
import org.ops4j.pax.exam.options.TimeoutOption;

/**
 * What every Ferry integration test shares: the Ferry distribution instead of plain Karaf,
 * shorter timeouts than KarafTestSupport's hour, and Maven Central for the probe's own bundles
 * (the distribution itself is offline by design). Subclasses add their options in
 * {@link #ferryOptions(List)}; Pax Exam finds the inherited {@code @Configuration}.
 */
public abstract class FerryTestSupport extends KarafTestSupport {

    /** A failed step must not be retried behind our back: migrations, approvals and counters move on. */
    @Rule
    public Retry retry = new Retry(false);

    @Override
    public MavenArtifactUrlReference getKarafDistribution() {
        return CoreOptions.maven().groupId("io.ferry").artifactId("ferry-karaf-assembly").versionAsInProject()
                .type("tar.gz");
    }

    @Configuration
    @Override
    public Option[] config() {
        List<Option> options = new ArrayList<>();
        for (Option o : super.config()) {
            if (!(o instanceof TimeoutOption) && !o.getClass().getName().contains("RBCLookupTimeoutOption")) {
                options.add(o);
            }
        }
        options.add(CoreOptions.systemTimeout(600_000));
        options.add(RBCRemoteTargetOptions.waitForRBCFor(600_000));
        options.add(editConfigurationFilePut("etc/org.ops4j.pax.url.mvn.cfg", "org.ops4j.pax.url.mvn.repositories",
                "https://repo1.maven.org/maven2@id=central"));
        ferryOptions(options);
        return options.toArray(new Option[0]);
    }

    /** Adds the test's own options (configuration files, system properties). */
    protected abstract void ferryOptions(List<Option> options);
}
