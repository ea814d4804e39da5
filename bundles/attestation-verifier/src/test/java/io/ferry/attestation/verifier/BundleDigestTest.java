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

    @Test
    void duplicateAndNulNamesAreRefused() {
        assertThatThrownBy(() -> BundleDigest.of(java.util.List.of("a", "a"), n -> new ByteArrayInputStream(new byte[0])))
                .hasMessageContaining("listed twice");
        assertThatThrownBy(() -> BundleDigest.of(java.util.List.of("a\0b"), n -> new ByteArrayInputStream(new byte[0])))
                .hasMessageContaining("zero byte");
    }
}
