package io.ferry.attestation.verifier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import org.junit.jupiter.api.Test;

class BundleDigestTest {

    static byte[] jar(Map<String, String> entries, boolean dirs, int level) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(out)) {
            z.setLevel(level);
            if (dirs) {
                z.putNextEntry(new ZipEntry("META-INF/"));
                z.closeEntry();
            }
            for (var e : entries.entrySet()) {
                z.putNextEntry(new ZipEntry(e.getKey()));
                z.write(e.getValue().getBytes());
                z.closeEntry();
            }
        }
        return out.toByteArray();
    }

    @Test
    void theDigestIsOfTheEntriesNotTheZipFile() throws Exception {
        Map<String, String> a = new LinkedHashMap<>();
        a.put("META-INF/MANIFEST.MF", "Bundle-SymbolicName: x\n");
        a.put("x/A.class", "code");
        Map<String, String> reordered = new LinkedHashMap<>();
        reordered.put("x/A.class", "code");
        reordered.put("META-INF/MANIFEST.MF", "Bundle-SymbolicName: x\n");
        String d = BundleDigest.ofJar(new ByteArrayInputStream(jar(a, false, 9)));
        assertThat(d).matches("[0-9a-f]{64}");
        assertThat(BundleDigest.ofJar(new ByteArrayInputStream(jar(reordered, true, 0)))).isEqualTo(d);
        assertThat(BundleDigest.of(a.keySet(), n -> new ByteArrayInputStream(a.get(n).getBytes()))).isEqualTo(d);

        Map<String, String> changed = new LinkedHashMap<>(a);
        changed.put("x/A.class", "code!");
        assertThat(BundleDigest.ofJar(new ByteArrayInputStream(jar(changed, false, 9)))).isNotEqualTo(d);
        Map<String, String> added = new LinkedHashMap<>(a);
        added.put("x/B.class", "");
        assertThat(BundleDigest.ofJar(new ByteArrayInputStream(jar(added, false, 9)))).isNotEqualTo(d);
        Map<String, String> renamed = new LinkedHashMap<>();
        renamed.put("META-INF/MANIFEST.MF", "Bundle-SymbolicName: x\n");
        renamed.put("x/A.clas", "scode");
        assertThat(BundleDigest.ofJar(new ByteArrayInputStream(jar(renamed, false, 9)))).isNotEqualTo(d);
    }

    /** Karaf's in-place update (feature upgrade, bundle:update) rewrites the manifest with Bundle-UpdateLocation. */
    @Test
    void karafsUpdateLocationHeaderDoesNotCountButEveryOtherHeaderDoes() throws Exception {
        String manifest = "Manifest-Version: 1.0\r\nBundle-SymbolicName: io.ferry.x\r\nBundle-Version: 0.1.1\r\n"
                + "Import-Package: io.ferry.api.protection;version=\"[1.1,2)\",org.osgi.framework;version=\"[1.10,2)\"\r\n\r\n";
        Map<String, String> published = new LinkedHashMap<>();
        published.put("META-INF/MANIFEST.MF", manifest);
        published.put("x/A.class", "code");
        String d = BundleDigest.ofJar(new ByteArrayInputStream(jar(published, true, 9)));

        java.util.jar.Manifest m = new java.util.jar.Manifest(new ByteArrayInputStream(manifest.getBytes()));
        m.getMainAttributes().putValue("Bundle-UpdateLocation", "mvn:io.ferry/ferry-hypervisor-protection/0.1.1");
        ByteArrayOutputStream rewritten = new ByteArrayOutputStream();
        m.write(rewritten);
        Map<String, String> updated = new LinkedHashMap<>(published);
        updated.put("META-INF/MANIFEST.MF", rewritten.toString());
        assertThat(updated.get("META-INF/MANIFEST.MF")).contains("Bundle-UpdateLocation");
        assertThat(BundleDigest.of(updated.keySet(), n -> new ByteArrayInputStream(updated.get(n).getBytes())))
                .isEqualTo(d);

        Map<String, String> otherVersion = new LinkedHashMap<>(published);
        otherVersion.put("META-INF/MANIFEST.MF", manifest.replace("0.1.1", "0.1.2"));
        assertThat(BundleDigest.ofJar(new ByteArrayInputStream(jar(otherVersion, true, 9)))).isNotEqualTo(d);
    }

    @Test
    void duplicateAndNulNamesAreRefused() {
        assertThatThrownBy(() -> BundleDigest.of(java.util.List.of("a", "a"), n -> new ByteArrayInputStream(new byte[0])))
                .hasMessageContaining("listed twice");
        assertThatThrownBy(() -> BundleDigest.of(java.util.List.of("a\0b"), n -> new ByteArrayInputStream(new byte[0])))
                .hasMessageContaining("zero byte");
    }
}
