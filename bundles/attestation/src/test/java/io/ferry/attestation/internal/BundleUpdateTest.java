package io.ferry.attestation.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import org.apache.felix.framework.Felix;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleEvent;
import org.osgi.framework.Constants;
import org.osgi.framework.SynchronousBundleListener;

import io.ferry.api.attestation.MeasurementEntry;
import io.ferry.attestation.verifier.BundleDigest;

/**
 * Against a real OSGi framework (Felix 7, as in Karaf 4.4): a Ferry bundle is measured when installed,
 * and an update is measured before the updated bundle starts; other bundles are not measured.
 */
class BundleUpdateTest {

    @TempDir
    Path dir;
    Felix felix;
    FakeTpm tpm = new FakeTpm();
    TpmMeasurer measurer;

    @BeforeEach
    void start() throws Exception {
        Map<String, Object> config = new HashMap<>();
        config.put(Constants.FRAMEWORK_STORAGE, dir.resolve("cache").toString());
        config.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        felix = new Felix(config);
        felix.start();
        measurer = new TpmMeasurer(tpm, felix.getBundleContext(), new TpmMeasurer.Settings(23, List.of(),
                dir.resolve("log"), List.of(), false, List.of("io.ferry")), Clock.systemUTC());
        felix.getBundleContext().addBundleListener(measurer);
    }

    @AfterEach
    void stop() throws Exception {
        felix.stop();
        felix.waitForStop(10_000);
    }

    /** A bundle jar without folder entries (as bnd may write them). */
    static byte[] bundle(String name, String version, String content) throws Exception {
        Manifest mf = new Manifest();
        mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        mf.getMainAttributes().putValue(Constants.BUNDLE_MANIFESTVERSION, "2");
        mf.getMainAttributes().putValue(Constants.BUNDLE_SYMBOLICNAME, name);
        mf.getMainAttributes().putValue(Constants.BUNDLE_VERSION, version);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JarOutputStream jar = new JarOutputStream(out, mf)) {
            jar.putNextEntry(new JarEntry("io/ferry/sample/data/content.txt"));
            jar.write(content.getBytes());
            jar.closeEntry();
            jar.putNextEntry(new JarEntry("OSGI-INF/readme.txt"));
            jar.write("hello".getBytes());
            jar.closeEntry();
        }
        return out.toByteArray();
    }

    @Test
    void anUpdateIsMeasuredBeforeTheNewBundleStarts() throws Exception {
        byte[] v1 = bundle("io.ferry.sample", "1.0.0", "one");
        byte[] v2 = bundle("io.ferry.sample", "2.0.0", "two");
        Bundle b = felix.getBundleContext().installBundle("mvn:io.ferry/sample/1.0.0", new ByteArrayInputStream(v1));
        assertThat(measurer.log()).singleElement().satisfies(e -> {
            assertThat(e.component()).isEqualTo("io.ferry.sample");
            assertThat(e.version()).isEqualTo("1.0.0");
            // the agent's digest of the installed bundle equals the digest of the jar a publisher computes
            assertThat(e.sha256()).isEqualTo(BundleDigest.ofJar(new ByteArrayInputStream(v1)));
        });
        b.start();

        // registered after the measurer: sees each event after it, in the updating thread
        List<String> seen = new ArrayList<>();
        felix.getBundleContext().addBundleListener((SynchronousBundleListener) event -> {
            if (event.getBundle() == b && event.getType() == BundleEvent.STARTING) {
                MeasurementEntry last = measurer.log().get(measurer.log().size() - 1);
                seen.add("STARTING with the last measurement " + last.version() + " in state "
                        + (b.getState() == Bundle.STARTING ? "STARTING" : b.getState()));
            }
        });
        Thread updater = Thread.currentThread();
        b.update(new ByteArrayInputStream(v2)); // Karaf's feature update does this: the location stays 1.0.0's
        assertThat(seen).containsExactly("STARTING with the last measurement 2.0.0 in state STARTING");
        assertThat(b.getState()).isEqualTo(Bundle.ACTIVE);
        assertThat(Thread.currentThread()).isSameAs(updater);
        assertThat(measurer.log()).hasSize(2);
        assertThat(measurer.log().get(1).sha256()).isEqualTo(BundleDigest.ofJar(new ByteArrayInputStream(v2)));
        assertThat(b.getLocation()).isEqualTo("mvn:io.ferry/sample/1.0.0");
        assertThat(measurer.status().replays()).isTrue();
    }

    @Test
    void otherBundlesAreNotMeasuredAndMeasureAllFindsFerryBundles() throws Exception {
        felix.getBundleContext().installBundle("other", new ByteArrayInputStream(bundle("org.example.other", "1", "x")));
        assertThat(measurer.log()).isEmpty();
        felix.getBundleContext().installBundle("ferry", new ByteArrayInputStream(bundle("io.ferry.x", "1", "x")));
        assertThat(measurer.log()).hasSize(1);
        assertThat(measurer.measureAll()).isEmpty(); // unchanged: not measured twice
    }
}
