package io.ferry.itcenter.internal;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Enumeration;
import java.util.List;
import java.util.Locale;

import org.flywaydb.core.api.ResourceProvider;
import org.flywaydb.core.api.resource.LoadableResource;
import org.osgi.framework.Bundle;

/**
 * Flyway's SQL migrations read from a bundle's own entries ({@link Bundle#findEntries}), in place of
 * Flyway's class path scanning.
 *
 * <p>Why: Flyway 9.22's {@code OsgiClassPathLocationScanner} lists a {@code bundle:} location through
 * {@code FrameworkUtil.getBundle(<its own class>).getBundleContext()}. At a Karaf restart the framework
 * starts the bundles of start level 80 in bundle id order, and this bundle (a lower id than Flyway's) starts, with
 * its {@link Database} component, before Flyway's: Flyway's bundle is only RESOLVED, has no bundle
 * context, the scanner falls back to listing its own jar, finds no migration, and Flyway logs "Schema ...
 * has version N, but no migration could be resolved in the configured locations !". The applied
 * migrations then count as "future" (ignored by default): nothing validated, nothing new applied. The
 * bundle's entries need no started bundle and no bundle context.
 *
 * <p>Each resource has the paths Flyway's own scanner gives it (absolute: {@code db/migration/common/V1__x.sql};
 * relative to its location: {@code V1__x.sql}), and is read as UTF-8, so checksums and scripts recorded by
 * either way match.
 */
final class BundleMigrations implements ResourceProvider {

    private final List<LoadableResource> resources = new ArrayList<>();

    /** The files under each folder ({@code db/migration/common}, ...) of the bundle and its fragments. */
    BundleMigrations(Bundle bundle, List<String> folders) {
        for (String folder : folders) {
            String root = strip(folder).replaceAll("/+$", "");
            Enumeration<URL> entries = bundle.findEntries(root, "*", true);
            while (entries != null && entries.hasMoreElements()) {
                URL url = entries.nextElement();
                String path = strip(url.getPath());
                if (!path.endsWith("/") && path.startsWith(root + "/")) {
                    resources.add(new Entry(url, path, path.substring(root.length() + 1)));
                }
            }
        }
    }

    /** Without its leading slash, as Flyway names resources. */
    private static String strip(String path) {
        return path.startsWith("/") ? path.substring(1) : path;
    }

    /** How many files were found (migrations and any SQL callbacks). */
    int size() {
        return resources.size();
    }

    @Override
    public LoadableResource getResource(String name) {
        String n = strip(name);
        for (LoadableResource r : resources) {
            if (r.getAbsolutePath().equals(n) || r.getRelativePath().equals(n)) {
                return r;
            }
        }
        return null;
    }

    @Override
    public Collection<LoadableResource> getResources(String prefix, String[] suffixes) {
        List<LoadableResource> found = new ArrayList<>();
        for (LoadableResource r : resources) {
            String file = r.getFilename();
            if (file.startsWith(prefix)) {
                for (String suffix : suffixes) {
                    // as Flyway's scanner: the suffix in any case, something between prefix and suffix
                    if (file.toUpperCase(Locale.ROOT).endsWith(suffix.toUpperCase(Locale.ROOT))
                            && file.length() > prefix.length() + suffix.length()) {
                        found.add(r);
                        break;
                    }
                }
            }
        }
        return found;
    }

    /** One file of the bundle. */
    private static final class Entry extends LoadableResource {
        private final URL url;
        private final String absolutePath;
        private final String relativePath;

        Entry(URL url, String absolutePath, String relativePath) {
            this.url = url;
            this.absolutePath = absolutePath;
            this.relativePath = relativePath;
        }

        @Override
        public Reader read() {
            try {
                return new BufferedReader(new InputStreamReader(url.openStream(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the migration " + url, e);
            }
        }

        @Override
        public String getAbsolutePath() {
            return absolutePath;
        }

        @Override
        public String getAbsolutePathOnDisk() {
            return url.toExternalForm();
        }

        @Override
        public String getFilename() {
            return absolutePath.substring(absolutePath.lastIndexOf('/') + 1);
        }

        @Override
        public String getRelativePath() {
            return relativePath;
        }
    }
}
