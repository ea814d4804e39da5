package io.ferry.itcenter.repository;

import java.util.regex.Pattern;

import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.itcenter.ItCenterException.Reason;

/**
 * Maven coordinates of one artifact, {@code mvn:group/artifact/version[/type[/classifier]]}, and
 * its path in a Maven-layout repository. Every part is restricted to characters that cannot make
 * a path leave the repository.
 */
record Coordinates(String groupId, String artifactId, String version, String type, String classifier) {

    private static final Pattern GROUP = Pattern.compile("[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*");
    private static final Pattern PART = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]*");

    Coordinates {
        check(groupId != null && groupId.length() <= 200 && GROUP.matcher(groupId).matches(), "group", groupId);
        check(artifactId != null && artifactId.length() <= 200 && PART.matcher(artifactId).matches(), "artifact",
                artifactId);
        check(version != null && version.length() <= 100 && PART.matcher(version).matches(), "version", version);
        check(type != null && type.length() <= 20 && PART.matcher(type).matches(), "type", type);
        check(classifier == null || (classifier.length() <= 50 && PART.matcher(classifier).matches()), "classifier",
                classifier);
    }

    /** Parses {@code mvn:g/a/v[/type[/classifier]]} (type {@code jar} by default). */
    static Coordinates parse(String url) {
        if (url == null || !url.startsWith("mvn:") || url.contains("!") || url.contains("$")) {
            throw new ItCenterException(Reason.INVALID,
                    "not Maven coordinates (mvn:group/artifact/version[/type[/classifier]]): " + url);
        }
        String[] p = url.substring(4).split("/", -1);
        if (p.length < 3 || p.length > 5) {
            throw new ItCenterException(Reason.INVALID,
                    "not Maven coordinates (mvn:group/artifact/version[/type[/classifier]]): " + url);
        }
        String type = p.length > 3 && !p[3].isEmpty() ? p[3] : "jar";
        String classifier = p.length > 4 && !p[4].isEmpty() ? p[4] : null;
        return new Coordinates(p[0], p[1], p[2], type, classifier);
    }

    boolean snapshot() {
        return version.endsWith("-SNAPSHOT");
    }

    /** The path in the repository, e.g. {@code io/ferry/ferry-api/1.0.0/ferry-api-1.0.0.jar}. */
    String path() {
        return groupId.replace('.', '/') + "/" + artifactId + "/" + version + "/" + artifactId + "-" + version
                + (classifier == null ? "" : "-" + classifier) + "." + type;
    }

    /** The {@code mvn:} URL. */
    String url() {
        return "mvn:" + groupId + "/" + artifactId + "/" + version
                + (classifier == null ? (type.equals("jar") ? "" : "/" + type) : "/" + type + "/" + classifier);
    }

    private static void check(boolean ok, String what, String value) {
        if (!ok) {
            throw new ItCenterException(Reason.INVALID, "Maven coordinates: bad " + what + " '" + value + "'");
        }
    }
}
