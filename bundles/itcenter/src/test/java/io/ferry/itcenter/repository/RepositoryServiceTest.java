package io.ferry.itcenter.repository;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.ferry.api.itcenter.AuditEntry;
import io.ferry.api.itcenter.AuditEvent;
import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.itcenter.Publication;
import io.ferry.api.attestation.ReferenceValue;
import io.ferry.attestation.verifier.BundleDigest;
import io.ferry.itcenter.internal.Store;
import io.ferry.itcenter.internal.ItCenterTestAccess;

/** The repository on the embedded H2 database; {@link PostgresRepositoryServiceTest} runs the same on PostgreSQL. */
class RepositoryServiceTest {

    @TempDir
    Path tmp;

    private final Map<String, byte[]> maven = new HashMap<>();
    private Store store;
    private RepositoryService repo;

    /** The database the tests run on: the embedded H2 file here, PostgreSQL in a subclass. */
    protected String databaseUrl() throws Exception {
        return "jdbc:h2:file:" + tmp.resolve("db/registry").toAbsolutePath();
    }

    @BeforeEach
    void open() throws Exception {
        store = ItCenterTestAccess.open(databaseUrl());
        repo = new RepositoryService(store, tmp.resolve("repository"), this::open, Clock.systemUTC(), 1 << 20);
    }

    @AfterEach
    void close() {
        store.close();
    }

    private ByteArrayInputStream open(String location) throws IOException {
        byte[] b = maven.get(location);
        if (b == null) {
            throw new FileNotFoundException(location);
        }
        return new ByteArrayInputStream(b);
    }

    static byte[] bundle(String bsn, String version, String content) throws IOException {
        Manifest m = new Manifest();
        m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        if (bsn != null) {
            m.getMainAttributes().putValue("Bundle-ManifestVersion", "2");
            m.getMainAttributes().putValue("Bundle-SymbolicName", bsn);
            m.getMainAttributes().putValue("Bundle-Version", version);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JarOutputStream jar = new JarOutputStream(out, m)) {
            jar.putNextEntry(new JarEntry("io/ferry/sample/"));
            jar.putNextEntry(new JarEntry("io/ferry/sample/data.txt"));
            jar.write(content.getBytes(StandardCharsets.UTF_8));
        }
        return out.toByteArray();
    }

    private static byte[] features(String version, String... bundles) {
        StringBuilder b = new StringBuilder("<?xml version=\"1.0\"?>\n<features name=\"sample-" + version
                + "\" xmlns=\"http://karaf.apache.org/xmlns/features/v1.6.0\">\n"
                + "  <repository>mvn:org.example/other/1/xml/features</repository>\n"
                + "  <feature name=\"sample\" version=\"" + version + "\">\n    <feature>scr</feature>\n");
        for (String bundle : bundles) {
            b.append("    <bundle>").append(bundle).append("</bundle>\n");
        }
        b.append("  </feature>\n  <feature name=\"sample-extra\" version=\"" + version + "\">\n"
                + "    <conditional><condition>shell</condition><bundle>" + bundles[0] + "</bundle></conditional>\n"
                + "    <configfile finalname=\"etc/sample.cfg\">mvn:io.ferry.test/sample-config/" + version
                + "/cfg</configfile>\n  </feature>\n</features>\n");
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    private void release(String version) throws IOException {
        maven.put("mvn:io.ferry.test/sample/" + version, bundle("io.ferry.sample", version, "v" + version));
        maven.put("mvn:io.ferry.test/lib/1.0.0", bundle("io.ferry.lib;singleton:=true", "1.0", "lib"));
        maven.put("mvn:io.ferry.test/plain/2.0", "not a bundle".getBytes(StandardCharsets.UTF_8));
        maven.put("mvn:io.ferry.test/sample-config/" + version + "/cfg", "a = 1\n".getBytes(StandardCharsets.UTF_8));
        maven.put("mvn:io.ferry.test/sample-features/" + version + "/xml/features", features(version,
                "mvn:io.ferry.test/sample/" + version, "mvn:io.ferry.test/lib/1.0.0",
                "wrap:mvn:io.ferry.test/plain/2.0$Bundle-SymbolicName=plain&amp;Bundle-Version=2.0"));
    }

    private List<AuditEvent> published() {
        return store.transaction(t -> {
            List<AuditEvent> all = new java.util.ArrayList<>();
            try (var ps = t.connection().prepareStatement("SELECT seq, kind, detail, actor FROM audit_event "
                    + "WHERE kind = 'update.published' ORDER BY seq"); var rs = ps.executeQuery()) {
                while (rs.next()) {
                    all.add(new AuditEvent(rs.getLong(1), null, rs.getString(2), null, null, rs.getString(4),
                            rs.getString(3)));
                }
            }
            return all;
        });
    }

    private List<ReferenceValue> referenceValues() {
        return store.transaction(t -> {
            List<ReferenceValue> all = new java.util.ArrayList<>();
            try (var ps = t.connection().prepareStatement("SELECT component, version, sha256, release_name "
                    + "FROM reference_value ORDER BY component, version"); var rs = ps.executeQuery()) {
                while (rs.next()) {
                    all.add(new ReferenceValue(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), null));
                }
            }
            return all;
        });
    }

    @Test
    void publishesAFeaturesRepositoryWithItsBundlesAndRecordsTheAgentsMeasurement() throws Exception {
        release("1.0.0");
        Publication p = repo.publish("mvn:io.ferry.test/sample-features/1.0.0/xml/features", null, "console:karaf");

        assertThat(p.releases()).extracting(r -> r.name()).containsExactly("sample/1.0.0", "sample-extra/1.0.0");
        assertThat(p.releases().get(0).repository()).isEqualTo("mvn:io.ferry.test/sample-features/1.0.0/xml/features");
        assertThat(p.artifacts()).containsExactly(
                "io/ferry/test/sample-features/1.0.0/sample-features-1.0.0-features.xml",
                "io/ferry/test/sample/1.0.0/sample-1.0.0.jar", "io/ferry/test/lib/1.0.0/lib-1.0.0.jar",
                "io/ferry/test/plain/2.0/plain-2.0.jar", "io/ferry/test/sample-config/1.0.0/sample-config-1.0.0.cfg");
        assertThat(p.notes()).anyMatch(n -> n.contains("mvn:org.example/other/1/xml/features"))
                .anyMatch(n -> n.contains("wrap:mvn:io.ferry.test/plain/2.0"));
        // component = symbolic name without directives, version as OSGi prints it, SHA-256 as the agent measures
        assertThat(referenceValues()).containsExactly(
                new ReferenceValue("io.ferry.lib", "1.0.0",
                        BundleDigest.ofJar(new ByteArrayInputStream(maven.get("mvn:io.ferry.test/lib/1.0.0"))),
                        "sample/1.0.0", null),
                new ReferenceValue("io.ferry.sample", "1.0.0",
                        BundleDigest.ofJar(new ByteArrayInputStream(maven.get("mvn:io.ferry.test/sample/1.0.0"))),
                        "sample/1.0.0", null));
        assertThat(published()).singleElement().satisfies(e -> {
            assertThat(e.actor()).isEqualTo("console:karaf");
            assertThat(e.detail()).contains("mvn:io.ferry.test/sample-features/1.0.0/xml/features")
                    .contains("sample/1.0.0").contains("artifacts=5");
        });
        assertThat(repo.releases()).hasSize(2);

        byte[] jar = maven.get("mvn:io.ferry.test/sample/1.0.0");
        assertThat(repo.read("io/ferry/test/sample/1.0.0/sample-1.0.0.jar")).get()
                .satisfies(s -> assertThat(s.content()).isEqualTo(jar));
        assertThat(new String(repo.read("io/ferry/test/sample/1.0.0/sample-1.0.0.jar.sha1").orElseThrow().content(),
                StandardCharsets.US_ASCII)).isEqualTo(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(jar)));
        assertThat(repo.read("io/ferry/test/sample-features/1.0.0/sample-features-1.0.0-features.xml").orElseThrow()
                .mediaType()).isEqualTo("application/xml");
    }

    @Test
    void aNewVersionIsAddedToTheMetadataAndRepublishingTheSameIsIdempotent() throws Exception {
        release("1.0.0");
        repo.publish("mvn:io.ferry.test/sample-features/1.0.0/xml/features", null, "a");
        Publication again = repo.publish("mvn:io.ferry.test/sample-features/1.0.0/xml/features", null, "a");
        assertThat(again.referenceValues()).hasSize(2);
        assertThat(published().get(1).detail()).contains("(new 0)");
        release("1.1.0");
        repo.publish("mvn:io.ferry.test/sample-features/1.1.0/xml/features", null, "a");

        String metadata = new String(repo.read("io/ferry/test/sample/maven-metadata.xml").orElseThrow().content(),
                StandardCharsets.UTF_8);
        assertThat(metadata).contains("<groupId>io.ferry.test</groupId>", "<artifactId>sample</artifactId>",
                "<version>1.0.0</version>", "<version>1.1.0</version>", "<latest>1.1.0</latest>", "<release>1.1.0</release>");
        assertThat(referenceValues()).extracting(ReferenceValue::component, ReferenceValue::version)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("io.ferry.lib", "1.0.0"),
                        org.assertj.core.groups.Tuple.tuple("io.ferry.sample", "1.0.0"),
                        org.assertj.core.groups.Tuple.tuple("io.ferry.sample", "1.1.0"));
        assertThat(repo.releases()).extracting(r -> r.name()).containsExactlyInAnyOrder("sample/1.0.0",
                "sample-extra/1.0.0", "sample/1.1.0", "sample-extra/1.1.0");
    }

    @Test
    void aReleasedVersionNeverChangesAndAFailedPublicationWritesNothing() throws Exception {
        release("1.0.0");
        repo.publish("mvn:io.ferry.test/sample-features/1.0.0/xml/features", null, "a");
        byte[] original = maven.get("mvn:io.ferry.test/sample/1.0.0");
        maven.put("mvn:io.ferry.test/sample/1.0.0", bundle("io.ferry.sample", "1.0.0", "trojan"));

        assertThatThrownBy(() -> repo.publish("mvn:io.ferry.test/sample-features/1.0.0/xml/features", null, "a"))
                .isInstanceOf(ItCenterException.class).hasMessageContaining("published already with other content")
                .satisfies(e -> assertThat(((ItCenterException) e).reason()).isEqualTo(ItCenterException.Reason.CONFLICT));
        assertThat(repo.read("io/ferry/test/sample/1.0.0/sample-1.0.0.jar").orElseThrow().content()).isEqualTo(original);
        assertThat(referenceValues()).hasSize(2);
        assertThat(published()).hasSize(1);

        // a listed bundle that is no bundle, or is missing, or is not a mvn: location: nothing is published
        maven.put("mvn:io.ferry.test/broken/1/xml/features", features("1", "mvn:io.ferry.test/plain/2.0"));
        assertThatThrownBy(() -> repo.publish("mvn:io.ferry.test/broken/1/xml/features", null, "a"))
                .hasMessageContaining("not an OSGi bundle");
        maven.put("mvn:io.ferry.test/broken/2/xml/features", features("2", "mvn:io.ferry.test/missing/1"));
        assertThatThrownBy(() -> repo.publish("mvn:io.ferry.test/broken/2/xml/features", null, "a"))
                .hasMessageContaining("cannot read mvn:io.ferry.test/missing/1");
        maven.put("mvn:io.ferry.test/broken/3/xml/features", features("3", "http://evil.example/x.jar"));
        assertThatThrownBy(() -> repo.publish("mvn:io.ferry.test/broken/3/xml/features", null, "a"))
                .hasMessageContaining("only mvn: locations");
        assertThat(repo.read("io/ferry/test/broken/1/broken-1-features.xml")).isEmpty();
        assertThat(Files.exists(tmp.resolve("repository/io/ferry/test/broken"))).isFalse();
        assertThat(published()).hasSize(1);
        assertThat(repo.releases()).hasSize(2);
    }

    @Test
    void aSnapshotMayBeRepublishedWithNewContent() throws Exception {
        maven.put("mvn:io.ferry.test/snap/1.0.0-SNAPSHOT", bundle("io.ferry.snap", "1.0.0.SNAPSHOT", "one"));
        repo.publish("mvn:io.ferry.test/snap/1.0.0-SNAPSHOT", null, "a");
        byte[] two = bundle("io.ferry.snap", "1.0.0.SNAPSHOT", "two");
        maven.put("mvn:io.ferry.test/snap/1.0.0-SNAPSHOT", two);
        Publication p = repo.publish("mvn:io.ferry.test/snap/1.0.0-SNAPSHOT", null, "a");
        assertThat(p.referenceValues()).singleElement().satisfies(v -> {
            assertThat(v.component()).isEqualTo("io.ferry.snap");
            assertThat(v.version()).isEqualTo("1.0.0.SNAPSHOT");
            assertThat(v.release()).isEqualTo("io.ferry.snap/1.0.0.SNAPSHOT");
        });
        assertThat(repo.read("io/ferry/test/snap/1.0.0-SNAPSHOT/snap-1.0.0-SNAPSHOT.jar").orElseThrow().content())
                .isEqualTo(two);
        assertThat(referenceValues()).hasSize(2);
    }

    @Test
    void aFileIsPublishedUnderTheCoordinatesGiven() throws Exception {
        Path jar = tmp.resolve("x.jar");
        Files.write(jar, bundle("io.ferry.x", "3.0.0", "x"));
        maven.put(jar.toString(), Files.readAllBytes(jar));
        assertThatThrownBy(() -> repo.publish(jar.toString(), null, "a")).hasMessageContaining("not Maven coordinates");
        repo.publish(jar.toString(), "mvn:io.ferry.test/x/3.0.0", "a");
        assertThat(repo.read("io/ferry/test/x/3.0.0/x-3.0.0.jar")).isPresent();
    }

    @Test
    void servesOnlyWhatWasPublishedUnchanged() throws Exception {
        release("1.0.0");
        repo.publish("mvn:io.ferry.test/sample-features/1.0.0/xml/features", null, "a");
        Path dir = tmp.resolve("repository");
        // put there by hand: not served
        Files.createDirectories(dir.resolve("io/ferry/test/sample/9.0.0"));
        Files.write(dir.resolve("io/ferry/test/sample/9.0.0/sample-9.0.0.jar"), bundle("io.ferry.sample", "9", "x"));
        assertThat(repo.read("io/ferry/test/sample/9.0.0/sample-9.0.0.jar")).isEmpty();
        // leaving the folder, odd names
        for (String bad : List.of("../db/registry.mv.db", "io/ferry/../../db/registry.mv.db", "/etc/passwd",
                "io//ferry", "io/ferry/test/sample/1.0.0/", "", "io/ferry/test/sample/1.0.0/sample-1.0.0.jar\0")) {
            assertThat(repo.read(bad)).as(bad).isEmpty();
        }
        assertThat(repo.read("no/such/maven-metadata.xml")).isEmpty();
        // changed after publishing: refused and audited
        Files.write(dir.resolve("io/ferry/test/sample/1.0.0/sample-1.0.0.jar"), bundle("io.ferry.sample", "1.0.0", "evil"));
        assertThatThrownBy(() -> repo.read("io/ferry/test/sample/1.0.0/sample-1.0.0.jar"))
                .isInstanceOf(ItCenterException.class).hasMessageContaining("differs from what was published");
        assertThatThrownBy(() -> repo.read("io/ferry/test/sample/1.0.0/sample-1.0.0.jar.sha1"))
                .isInstanceOf(ItCenterException.class);
        Files.delete(dir.resolve("io/ferry/test/lib/1.0.0/lib-1.0.0.jar"));
        assertThatThrownBy(() -> repo.read("io/ferry/test/lib/1.0.0/lib-1.0.0.jar")).isInstanceOf(ItCenterException.class);
        long mismatches = store.transaction(t -> {
            try (var ps = t.connection().prepareStatement(
                    "SELECT COUNT(*) FROM audit_event WHERE kind = 'repository.mismatch'"); var rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        });
        assertThat(mismatches).isEqualTo(3);
    }

    @Test
    void refusesBadFeaturesXmlAndCoordinates() throws Exception {
        maven.put("mvn:io.ferry.test/xxe/1/xml/features", ("<?xml version=\"1.0\"?><!DOCTYPE features [<!ENTITY x SYSTEM "
                + "\"file:///etc/passwd\">]><features><feature name=\"a\"><bundle>&x;</bundle></feature></features>")
                .getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> repo.publish("mvn:io.ferry.test/xxe/1/xml/features", null, "a"))
                .hasMessageContaining("not a features repository");
        maven.put("mvn:io.ferry.test/other/1/xml/features", "<project/>".getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> repo.publish("mvn:io.ferry.test/other/1/xml/features", null, "a"))
                .hasMessageContaining("root element is <project>");
        for (String bad : List.of("mvn:../../etc/passwd/1", "mvn:io.ferry/a", "mvn:io.ferry/a/1/jar/x/y", "file:/etc/passwd",
                "mvn:io.ferry/a/../1", "mvn:io..ferry/a/1")) {
            assertThatThrownBy(() -> repo.publish(bad, null, "a")).as(bad).isInstanceOf(ItCenterException.class)
                    .satisfies(e -> assertThat(((ItCenterException) e).reason()).isEqualTo(ItCenterException.Reason.INVALID));
        }
        assertThat(published()).isEmpty();
    }

    @Test
    void aRecordOfTheAuditEntryType() {
        // the repository writes its audit events through Tables.appendAudit: kinds are the IT center's
        assertThat(new AuditEntry("update.published", null, null, "a", "d").kind()).matches("[a-z0-9][a-z0-9._-]*");
    }
}
