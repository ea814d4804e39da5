package io.ferry.itcenter.repository;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.jar.Manifest;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

import org.osgi.framework.Version;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;

import io.ferry.api.itcenter.AuditEntry;
import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.itcenter.ItCenterException.Reason;
import io.ferry.api.itcenter.Publication;
import io.ferry.api.attestation.ReferenceValue;
import io.ferry.api.itcenter.Release;
import io.ferry.api.itcenter.ReleaseRepository;
import io.ferry.attestation.verifier.BundleDigest;
import io.ferry.itcenter.internal.Store;

/**
 * The IT center's features repository: publishing copies artifacts into a Maven-layout folder and
 * records each file's SHA-256, the bundles' reference values and the releases in the same
 * transaction as the {@code update.published} audit event; {@link #read} serves only what was
 * published, checking every file against its recorded SHA-256, and makes the checksum files and
 * {@code maven-metadata.xml} that Maven resolvers ask for.
 */
@Component(service = {ReleaseRepository.class, RepositoryService.class},
        configurationPid = "io.ferry.itcenter.repository", configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = RepositoryConfig.class)
public final class RepositoryService implements ReleaseRepository {

    /** Reads what a location names: {@code mvn:} and {@code file:} URLs, or a file path. */
    @FunctionalInterface
    interface Source {
        InputStream open(String location) throws IOException;
    }

    /** A file served, with its media type. */
    record Served(byte[] content, String mediaType) {
    }

    private record Staged(Coordinates coordinates, byte[] content, String sha256) {
    }

    private static final Pattern PATH = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*");
    private static final Map<String, String> CHECKSUMS = Map.of(".sha1", "SHA-1", ".md5", "MD5", ".sha256", "SHA-256",
            ".sha512", "SHA-512");
    private static final String METADATA = "maven-metadata.xml";
    private static final DateTimeFormatter LAST_UPDATED = DateTimeFormatter.ofPattern("yyyyMMddHHmmss")
            .withZone(ZoneOffset.UTC);

    private final Store store;
    private final Path dir;
    private final Source source;
    private final Clock clock;
    private final long maxBytes;

    @Activate
    public RepositoryService(RepositoryConfig config, @Reference Store store) {
        this(store, config.repository_dir().isBlank()
                ? Path.of(System.getProperty("karaf.data", "data"), "itcenter", "repository").toAbsolutePath()
                : Path.of(config.repository_dir()), RepositoryService::openUrl, Clock.systemUTC(),
                config.max_artifact_mib() * 1024L * 1024L);
    }

    RepositoryService(Store store, Path dir, Source source, Clock clock, long maxBytes) {
        this.store = store;
        this.dir = dir;
        this.source = source;
        this.clock = clock;
        this.maxBytes = maxBytes;
    }

    private static InputStream openUrl(String location) throws IOException {
        URL url = location.startsWith("mvn:") || location.startsWith("file:") ? new URL(location)
                : Path.of(location).toUri().toURL();
        return url.openStream();
    }

    Path folder() {
        return dir;
    }

    @Override
    public Publication publish(String location, String coordinates, String actor) {
        require(location != null && !location.isBlank() && location.length() <= 2000, "a location is required");
        String who = actor == null || actor.isBlank() ? "unknown" : clip(actor.strip(), 200);
        String where = location.strip();
        Coordinates target = Coordinates.parse(coordinates == null || coordinates.isBlank() ? where : coordinates.strip());
        byte[] main = fetch(where);
        Instant now = clock.instant();

        Map<String, Staged> staged = new LinkedHashMap<>();
        List<ReferenceValue> values = new ArrayList<>();
        List<Release> releases = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        stage(staged, target, main);
        if (FeaturesXml.looksLikeXml(main)) {
            FeaturesXml xml = FeaturesXml.parse(main);
            for (String r : xml.repositories()) {
                notes.add("not published: the repository " + r + " it refers to (agents resolve it themselves)");
            }
            Map<String, String> bundles = new LinkedHashMap<>();
            Set<String> configFiles = new LinkedHashSet<>();
            for (FeaturesXml.Feature f : xml.features()) {
                Release r = new Release(f.name(), f.version(), target.url(), now, who);
                require(r.name().length() <= 100 && f.name().length() <= 200 && f.version().length() <= 100,
                        "feature name and version: at most 100 characters together");
                releases.add(r);
                f.bundles().forEach(b -> bundles.putIfAbsent(b, r.name()));
                configFiles.addAll(f.configFiles());
            }
            for (Map.Entry<String, String> b : bundles.entrySet()) {
                String loc = b.getKey();
                boolean wrapped = loc.startsWith("wrap:");
                String mvn = artifactUrl(loc);
                byte[] jar = fetch(mvn);
                stage(staged, Coordinates.parse(mvn), jar);
                if (wrapped) {
                    notes.add("no reference value for " + loc + ": it becomes a bundle only when wrapped on the agent");
                } else {
                    values.add(referenceValue(jar, b.getValue(), loc, now));
                }
            }
            for (String loc : configFiles) {
                String mvn = artifactUrl(loc);
                stage(staged, Coordinates.parse(mvn), fetch(mvn));
            }
        } else {
            ReferenceValue v = referenceValue(main, null, where, now);
            values.add(new ReferenceValue(v.component(), v.version(), v.sha256(),
                    clip(v.component() + "/" + v.version(), 100), now));
        }

        return store.transaction(t -> {
            RepositoryTables rt = new RepositoryTables(t.connection());
            for (Staged s : staged.values()) {
                Optional<RepositoryTables.Artifact> old = rt.artifact(s.coordinates().path());
                if (old.isPresent() && !old.get().sha256().equals(s.sha256()) && !s.coordinates().snapshot()) {
                    throw new ItCenterException(Reason.CONFLICT, s.coordinates().url()
                            + " is published already with other content (SHA-256 " + old.get().sha256()
                            + "); a released version never changes: publish a new version");
                }
            }
            for (Staged s : staged.values()) {
                Coordinates c = s.coordinates();
                Optional<RepositoryTables.Artifact> old = rt.artifact(c.path());
                if (old.isEmpty() || !old.get().sha256().equals(s.sha256()) || !matches(c.path(), s.sha256())) {
                    write(c.path(), s.content());
                    rt.putArtifact(new RepositoryTables.Artifact(c.path(), c.groupId(), c.artifactId(), c.version(),
                            s.sha256(), s.content().length, now));
                }
            }
            List<ReferenceValue> recorded = new ArrayList<>();
            for (ReferenceValue v : values) {
                if (rt.addReferenceValue(v)) {
                    recorded.add(v);
                }
            }
            for (Release r : releases) {
                rt.putRelease(r);
            }
            String detail = "published " + target.url() + " releases="
                    + releases.stream().map(Release::name).collect(Collectors.joining(",")) + " artifacts="
                    + staged.size() + " reference values=" + values.size() + " (new " + recorded.size() + ")";
            t.appendAudit(new AuditEntry("update.published", null, null, who, clip(detail, 4000)), now);
            return new Publication(target.url(), List.copyOf(releases),
                    staged.values().stream().map(s -> s.coordinates().path()).toList(), List.copyOf(values),
                    List.copyOf(notes));
        });
    }

    @Override
    public List<Release> releases() {
        return store.transaction(t -> new RepositoryTables(t.connection()).releases());
    }

    /**
     * What the repository serves at a path: a published file whose content still has its recorded
     * SHA-256, a checksum of one, or an artifact's {@code maven-metadata.xml}; empty for anything else.
     *
     * @throws ItCenterException UNAVAILABLE when a published file was changed or removed (and audited so)
     */
    public Optional<Served> read(String path) {
        if (path == null || path.length() > 1000 || !PATH.matcher(path).matches()
                || Arrays.asList(path.split("/")).contains("..")) {
            return Optional.empty();
        }
        for (Map.Entry<String, String> c : CHECKSUMS.entrySet()) {
            if (path.endsWith(c.getKey())) {
                String base = path.substring(0, path.length() - c.getKey().length());
                return content(base).map(s -> new Served(
                        HexFormat.of().formatHex(digest(c.getValue(), s.content())).getBytes(StandardCharsets.US_ASCII),
                        "text/plain"));
            }
        }
        return content(path);
    }

    private Optional<Served> content(String path) {
        if (path.endsWith("/" + METADATA)) {
            return metadata(path);
        }
        Optional<RepositoryTables.Artifact> a = store.transaction(t -> new RepositoryTables(t.connection()).artifact(path));
        if (a.isEmpty()) {
            return Optional.empty();
        }
        byte[] content;
        try {
            content = Files.size(dir.resolve(path)) == a.get().size() ? Files.readAllBytes(dir.resolve(path)) : null;
        } catch (IOException e) {
            content = null;
        }
        if (content == null || !sha256(content).equals(a.get().sha256())) {
            store.transaction(t -> t.appendAudit(new AuditEntry("repository.mismatch", null, null, "itcenter",
                    "the file " + path + " is missing or differs from what was published (SHA-256 "
                            + a.get().sha256() + "); not served"), clock.instant()));
            throw new ItCenterException(Reason.UNAVAILABLE,
                    "the repository's file " + path + " differs from what was published; it is not served");
        }
        return Optional.of(new Served(content, path.endsWith(".xml") ? "application/xml" : "application/java-archive"));
    }

    /** {@code group/path/artifact/maven-metadata.xml}: the versions published, oldest first. */
    private Optional<Served> metadata(String path) {
        String[] seg = path.split("/");
        if (seg.length < 3) {
            return Optional.empty();
        }
        String artifactId = seg[seg.length - 2];
        String groupId = String.join(".", Arrays.copyOf(seg, seg.length - 2));
        List<RepositoryTables.Artifact> rows = store.transaction(
                t -> new RepositoryTables(t.connection()).artifacts(groupId, artifactId));
        if (rows.isEmpty()) {
            return Optional.empty();
        }
        List<String> versions = rows.stream().map(RepositoryTables.Artifact::version).distinct().toList();
        String latest = versions.get(versions.size() - 1);
        String release = versions.stream().filter(v -> !v.endsWith("-SNAPSHOT")).reduce((x, y) -> y).orElse(null);
        Instant updated = rows.stream().map(RepositoryTables.Artifact::publishedAt).max(Instant::compareTo).orElseThrow();
        StringBuilder xml = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<metadata>\n")
                .append("  <groupId>").append(groupId).append("</groupId>\n")
                .append("  <artifactId>").append(artifactId).append("</artifactId>\n")
                .append("  <versioning>\n    <latest>").append(latest).append("</latest>\n");
        if (release != null) {
            xml.append("    <release>").append(release).append("</release>\n");
        }
        xml.append("    <versions>\n");
        versions.forEach(v -> xml.append("      <version>").append(v).append("</version>\n"));
        xml.append("    </versions>\n    <lastUpdated>").append(LAST_UPDATED.format(updated))
                .append("</lastUpdated>\n  </versioning>\n</metadata>\n");
        return Optional.of(new Served(xml.toString().getBytes(StandardCharsets.UTF_8), "application/xml"));
    }

    private boolean matches(String path, String sha256) {
        try {
            return sha256(Files.readAllBytes(dir.resolve(path))).equals(sha256);
        } catch (IOException e) {
            return false;
        }
    }

    private void write(String path, byte[] content) throws SQLException {
        Path file = dir.resolve(path);
        try {
            Files.createDirectories(file.getParent());
            Path tmp = Files.createTempFile(file.getParent(), ".publish-", ".tmp");
            try {
                Files.write(tmp, content);
                try {
                    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new ItCenterException(Reason.UNAVAILABLE, "cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    private static void stage(Map<String, Staged> staged, Coordinates c, byte[] content) {
        Staged s = new Staged(c, content, sha256(content));
        Staged before = staged.putIfAbsent(c.path(), s);
        if (before != null && !before.sha256().equals(s.sha256())) {
            throw new ItCenterException(Reason.INVALID, c.url() + " is listed twice with different content");
        }
    }

    /** The {@code mvn:} URL of a bundle location: {@code wrap:} and its instructions taken off. */
    private static String artifactUrl(String location) {
        String loc = location.startsWith("wrap:") ? location.substring(5) : location;
        int instructions = loc.indexOf('$');
        if (instructions >= 0 && location.startsWith("wrap:")) {
            loc = loc.substring(0, instructions);
        }
        if (!loc.startsWith("mvn:")) {
            throw new ItCenterException(Reason.INVALID, "only mvn: locations can be published, since agents fetch "
                    + "them from the repository: " + location);
        }
        return loc;
    }

    private byte[] fetch(String location) {
        try (InputStream in = source.open(location)) {
            if (in == null) {
                throw new IOException("nothing there");
            }
            byte[] content = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBytes + 1));
            if (content.length > maxBytes) {
                throw new ItCenterException(Reason.INVALID, location + " is larger than " + maxBytes + " bytes");
            }
            return content;
        } catch (IOException | RuntimeException e) {
            if (e instanceof ItCenterException i) {
                throw i;
            }
            throw new ItCenterException(Reason.NOT_FOUND, "cannot read " + location + ": " + e.getMessage(), e);
        }
    }

    /** The reference value of a bundle jar: its symbolic name, version and the agent's measurement of it. */
    static ReferenceValue referenceValue(byte[] jar, String release, String location, Instant now) {
        Manifest m = manifest(jar);
        String bsn = m == null ? null : m.getMainAttributes().getValue("Bundle-SymbolicName");
        if (bsn == null || bsn.split(";")[0].isBlank()) {
            throw new ItCenterException(Reason.INVALID, "not an OSGi bundle (no Bundle-SymbolicName): " + location);
        }
        String version;
        try {
            version = Version.parseVersion(m.getMainAttributes().getValue("Bundle-Version")).toString();
        } catch (IllegalArgumentException e) {
            throw new ItCenterException(Reason.INVALID, "a bad Bundle-Version in " + location + ": " + e.getMessage());
        }
        try {
            String component = bsn.split(";")[0].strip();
            require(component.length() <= 200 && version.length() <= 100, "bundle name or version too long: " + location);
            return new ReferenceValue(component, version, BundleDigest.ofJar(new ByteArrayInputStream(jar)), release, now);
        } catch (IllegalArgumentException e) {
            throw new ItCenterException(Reason.INVALID, "cannot record " + location + ": " + e.getMessage(), e);
        } catch (IOException e) {
            throw new ItCenterException(Reason.INVALID, "cannot measure " + location + ": " + e.getMessage(), e);
        }
    }

    private static Manifest manifest(byte[] jar) {
        try (ZipInputStream zip = new ZipInputStream(new ByteArrayInputStream(jar))) {
            for (ZipEntry e; (e = zip.getNextEntry()) != null;) {
                if (e.getName().equals("META-INF/MANIFEST.MF")) {
                    return new Manifest(zip);
                }
            }
            return null;
        } catch (IOException e) {
            throw new ItCenterException(Reason.INVALID, "not a jar: " + e.getMessage());
        }
    }

    static String sha256(byte[] content) {
        return HexFormat.of().formatHex(digest("SHA-256", content));
    }

    private static byte[] digest(String algorithm, byte[] content) {
        try {
            return MessageDigest.getInstance(algorithm).digest(content);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String clip(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new ItCenterException(Reason.INVALID, message);
        }
    }
}
