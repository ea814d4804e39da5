package io.ferry.itcenter.attestation;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.ferry.api.attestation.ComponentKind;
import io.ferry.api.attestation.MeasurementEntry;
import io.ferry.api.attestation.Reason;
import io.ferry.api.attestation.ReferenceValue;
import io.ferry.api.attestation.Remediation;
import io.ferry.api.attestation.Verdict;
import io.ferry.api.itcenter.Release;

/**
 * What an agent must install to qualify, as a pure function of its verdict, its log and what the IT center
 * published. For every failing or unknown bundle the newest published reference value of that bundle is
 * chosen; its release name {@code feature/version} (as the repository records it) names the feature and
 * version to install; a reference value without such a release falls back to the documented mapping
 * ({@code io.ferry.<area>} is in feature {@code ferry-<area>}, with configured exceptions) at the bundle's
 * version. Anything a feature cannot fix is said in words: evidence that is not genuine, a binary (updated
 * by the system's package manager), a component no release contains, a digest that differs at the
 * published version itself.
 */
final class Remediations {

    private Remediations() {
    }

    static Remediation of(Verdict verdict, List<MeasurementEntry> log, Collection<ReferenceValue> references,
            List<Release> releases, Map<String, String> featureOverrides, String defaultRepository) {
        if (!verdict.genuine()) {
            return new Remediation(List.of(), List.of("the evidence is not genuine ("
                    + String.join("; ", verdict.reasons().stream().map(Reason::toString).toList())
                    + "): installing features does not fix that"), null);
        }
        Map<String, MeasurementEntry> latest = new LinkedHashMap<>();
        log.forEach(e -> latest.put(e.component(), e));
        List<String> names = new ArrayList<>();
        for (String id : concat(verdict.failing(), verdict.unknown())) {
            String name = id.contains(" ") ? id.substring(0, id.indexOf(' ')) : id;
            if (!names.contains(name)) {
                names.add(name);
            }
        }
        Map<String, Remediation.FeatureUpdate> features = new LinkedHashMap<>();
        List<String> unresolved = new ArrayList<>();
        String repository = null;
        for (String name : names) {
            MeasurementEntry measured = latest.get(name);
            ReferenceValue newest = references.stream().filter(r -> r.component().equals(name))
                    .max(Comparator.comparing((ReferenceValue r) -> r.publishedAt() == null ? java.time.Instant.EPOCH
                            : r.publishedAt()).thenComparing(ReferenceValue::version, Remediations::compareVersions))
                    .orElse(null);
            if (newest == null) {
                unresolved.add(name + (measured == null ? "" : " " + measured.version())
                        + ": no published release contains it; remove it, or publish it");
                continue;
            }
            if (measured != null && measured.kind() == ComponentKind.BINARY) {
                unresolved.add(name + " " + measured.version() + " is not a published version (the newest is "
                        + newest.version() + "): update it with the system's package manager");
                continue;
            }
            if (measured != null && measured.version().equals(newest.version())) {
                unresolved.add(name + " " + measured.version() + " differs from its published digest at the same "
                        + "version: reinstall the published bundle (bundle:update) or remove it");
                continue;
            }
            String feature;
            String version;
            if (newest.release() != null && newest.release().indexOf('/') > 0
                    && newest.release().indexOf('/') < newest.release().length() - 1) {
                feature = newest.release().substring(0, newest.release().indexOf('/'));
                version = newest.release().substring(newest.release().indexOf('/') + 1);
            } else {
                feature = featureOverrides.getOrDefault(name,
                        name.startsWith("io.ferry.") ? "ferry-" + name.substring("io.ferry.".length()) : null);
                version = newest.version();
            }
            if (feature == null) {
                unresolved.add(name + ": published as " + newest.version() + ", but no feature is known to bring it");
                continue;
            }
            features.putIfAbsent(feature + "/" + version,
                    new Remediation.FeatureUpdate(name, feature, version, newest.release()));
            if (repository == null) {
                String f = feature;
                String v = version;
                repository = releases.stream().filter(r -> r.feature().equals(f) && r.version().equals(v))
                        .map(Release::repository).filter(r -> r != null && !r.isBlank()).findFirst().orElse(null);
            }
        }
        if (repository == null && !features.isEmpty() && defaultRepository != null && !defaultRepository.isBlank()) {
            repository = defaultRepository;
        }
        return new Remediation(List.copyOf(features.values()), unresolved, features.isEmpty() ? null : repository);
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    /** Compares dotted versions number by number (1.10 after 1.9), other parts as text. */
    static int compareVersions(String a, String b) {
        String[] x = a.split("[.-]");
        String[] y = b.split("[.-]");
        for (int i = 0; i < Math.max(x.length, y.length); i++) {
            String p = i < x.length ? x[i] : "";
            String q = i < y.length ? y[i] : "";
            int c;
            if (p.matches("\\d{1,9}") && q.matches("\\d{1,9}")) {
                c = Integer.compare(Integer.parseInt(p), Integer.parseInt(q));
            } else if (p.isEmpty() || q.isEmpty()) {
                c = p.isEmpty() ? -1 : 1;
            } else {
                c = p.compareTo(q);
            }
            if (c != 0) {
                return c;
            }
        }
        return 0;
    }
}
