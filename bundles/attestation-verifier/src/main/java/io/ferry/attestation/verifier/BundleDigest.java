package io.ferry.attestation.verifier;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collection;
import java.util.HexFormat;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.jar.Attributes;
import java.util.jar.Manifest;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * How a bundle is measured: SHA-256 over its entries, not over the jar file. The agent measures what the
 * OSGi framework holds (a bundle updated from a stream keeps its old location, so the location's file is
 * not what runs), and whoever publishes reference values computes the same from the jar with
 * {@link #ofJar}. The digest is SHA-256 of {@code "ferry-bundle-v1\0"} followed, for every file entry
 * (directories skipped) in increasing order of its name's UTF-8 bytes, by: the name in UTF-8, a zero byte,
 * the SHA-256 of the content (names hold no zero byte, so the framing is unambiguous); the manifest's content is
 * taken without the {@code Bundle-UpdateLocation} header Karaf adds on an in-place update
 * ({@link #canonicalManifest}). Re-zipping a jar does not change it; changing,
 * adding or removing any entry does.
 */
public final class BundleDigest {

    static final String MANIFEST = "META-INF/MANIFEST.MF";
    static final byte[] PREFIX = "ferry-bundle-v1\0".getBytes(StandardCharsets.US_ASCII);
    /** A bundle has more entries than that only if it is built to exhaust the verifier. */
    public static final int MAX_ENTRIES = 100_000;

    /** Opens one entry of a bundle by name. */
    @FunctionalInterface
    public interface Entries {
        InputStream open(String name) throws IOException;
    }

    private BundleDigest() {
    }

    /** The digest (lower-case hex) of the named file entries, opened through {@code entries}. */
    public static String of(Collection<String> names, Entries entries) throws IOException {
        if (names.size() > MAX_ENTRIES) {
            throw new IOException("a bundle with " + names.size() + " entries, more than " + MAX_ENTRIES);
        }
        TreeSet<byte[]> sorted = new TreeSet<>(java.util.Arrays::compareUnsigned);
        for (String n : names) {
            if (n.indexOf('\0') >= 0) {
                throw new IOException("an entry name with a zero byte");
            }
            if (!n.endsWith("/")) {
                if (!sorted.add(n.getBytes(StandardCharsets.UTF_8))) {
                    throw new IOException("the entry " + n + " is listed twice");
                }
            }
        }
        MessageDigest md = sha256();
        md.update(PREFIX);
        byte[] buffer = new byte[64 * 1024];
        for (byte[] nameBytes : sorted) {
            String name = new String(nameBytes, StandardCharsets.UTF_8);
            MessageDigest content = sha256();
            try (InputStream in = entries.open(name)) {
                if (in == null) {
                    throw new IOException("the entry " + name + " cannot be opened");
                }
                if (name.equals(MANIFEST)) {
                    content.update(canonicalManifest(in.readAllBytes()));
                } else {
                    for (int n; (n = in.read(buffer)) > 0;) {
                        content.update(buffer, 0, n);
                    }
                }
            }
            md.update(nameBytes);
            md.update((byte) 0);
            md.update(content.digest());
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** The digest (lower-case hex) of a bundle jar, as the agent will measure it once installed. */
    public static String ofJar(InputStream jar) throws IOException {
        TreeMap<String, byte[]> content = new TreeMap<>();
        try (ZipInputStream zip = new ZipInputStream(jar)) {
            for (ZipEntry e; (e = zip.getNextEntry()) != null;) {
                if (e.isDirectory()) {
                    continue;
                }
                if (content.size() >= MAX_ENTRIES) {
                    throw new IOException("a jar with more than " + MAX_ENTRIES + " entries");
                }
                if (content.put(e.getName(), zip.readAllBytes()) != null) {
                    throw new IOException("the jar has the entry " + e.getName() + " twice");
                }
            }
        }
        return of(content.keySet(), name -> new java.io.ByteArrayInputStream(content.get(name)));
    }

    /**
     * The manifest as it counts for the digest: parsed, without {@code Bundle-UpdateLocation}, and written
     * again. Karaf adds that header when it updates a bundle in place (a feature upgrade, bundle:update:
     * BundleUtils.fixBundleWithUpdateLocation rewrites the manifest with it), so the bundle the framework
     * holds differs from the published jar by exactly that header; everything else still counts. A
     * manifest that does not parse counts as its bytes.
     */
    static byte[] canonicalManifest(byte[] bytes) {
        try {
            Manifest m = new Manifest(new ByteArrayInputStream(bytes));
            m.getMainAttributes().remove(new Attributes.Name("Bundle-UpdateLocation"));
            ByteArrayOutputStream out = new ByteArrayOutputStream(bytes.length);
            m.write(out);
            return out.toByteArray();
        } catch (IOException | RuntimeException e) {
            return bytes;
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
