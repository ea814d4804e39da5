package io.ferry.attestation.internal;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleEvent;
import org.osgi.framework.SynchronousBundleListener;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;

import io.ferry.api.attestation.AttestationException;
import io.ferry.api.attestation.Attester;
import io.ferry.api.attestation.Evidence;
import io.ferry.api.attestation.ComponentKind;
import io.ferry.api.attestation.MeasurementEntry;
import io.ferry.api.attestation.MeasurementStatus;
import io.ferry.api.attestation.Measurer;
import io.ferry.api.tpm.Quote;
import io.ferry.api.tpm.Tpm;
import io.ferry.api.tpm.TpmPublic;
import io.ferry.api.tpm.TpmException;
import io.ferry.attestation.verifier.BundleDigest;

/**
 * Measures the hypervisor binaries and the Ferry bundles into the measurement PCR and the log: all of them
 * at activation and on {@link #measureAll()}, and each Ferry bundle on its INSTALLED and UPDATED events.
 * It is a {@link SynchronousBundleListener}: the framework calls it in the thread that installs or updates
 * the bundle, and {@code Bundle.update} fires UPDATED before it starts the bundle again (the javadoc of
 * both; shown against Felix in BundleUpdateTest), so a bundle is measured before its new code runs. The component itself is
 * measured at its own activation: its own update is measured after it starts.
 */
@Component(service = { Measurer.class, Attester.class }, immediate = true, configurationPid = "io.ferry.attestation",
        configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = AttestationConfig.class)
public final class TpmMeasurer implements Measurer, Attester, SynchronousBundleListener {

    private static final Logger LOG = Logger.getLogger(TpmMeasurer.class.getName());
    private static final Pattern VERSION = Pattern.compile("(\\d+(?:\\.\\d+)+)");
    static final String LOG_FILE = "measurements.log";

    /** What to measure, where, into which PCR. */
    record Settings(int pcr, List<Integer> bootPcrs, Path logDir, List<Path> binaries, boolean probeVersions,
            List<String> bundlePrefixes) {
        Settings {
            bootPcrs = List.copyOf(bootPcrs);
            binaries = List.copyOf(binaries);
            bundlePrefixes = List.copyOf(bundlePrefixes);
        }

        static Settings of(AttestationConfig c) {
            List<Integer> boot = split(new String[] { c.boot_pcrs() }).stream().map(Integer::valueOf).toList();
            return new Settings(c.measurement_pcr(), boot, Path.of(c.log_dir()),
                    split(c.binaries()).stream().map(Path::of).toList(), c.binary_version_probe(),
                    split(c.bundle_prefixes()));
        }

        /** A .cfg file gives a list as one comma-separated string: accept both. */
        static List<String> split(String[] values) {
            return Arrays.stream(values).flatMap(v -> Arrays.stream(v.split(","))).map(String::trim)
                    .filter(v -> !v.isEmpty()).toList();
        }
    }

    private final Tpm tpm;
    private final BundleContext context;
    private final Settings settings;
    private final Clock clock;
    private final Object lock = new Object();
    private final MeasurementLog log;
    /** What start-up recovered from, or why measuring stopped; shown in the status. */
    private final Set<String> notes = new LinkedHashSet<>();

    @Activate
    public TpmMeasurer(AttestationConfig config, BundleContext context, @Reference Tpm tpm) {
        this(tpm, context, Settings.of(config), Clock.systemUTC());
        context.addBundleListener(this);
        try {
            measureAll();
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "initial measurement failed (attestation:measure retries): " + e.getMessage(), e);
        }
    }

    /** Opens the log and reconciles it with the PCR; measures nothing yet (for tests and the activator above). */
    TpmMeasurer(Tpm tpm, BundleContext context, Settings settings, Clock clock) {
        this.tpm = tpm;
        this.context = context;
        this.settings = settings;
        this.clock = clock;
        this.log = openLog(settings.logDir().resolve(LOG_FILE));
        if (log.recovered() != null) {
            LOG.warning(log.recovered());
            notes.add(log.recovered());
        }
        synchronized (lock) {
            try {
                reconcile();
            } catch (TpmException e) {
                LOG.warning("cannot read the measurement PCR at start: " + e.getMessage());
            }
        }
    }

    private MeasurementLog openLog(Path file) {
        try {
            return MeasurementLog.open(file);
        } catch (MeasurementLog.CorruptLogException e) {
            Path aside = file.resolveSibling(file.getFileName() + ".corrupt-" + System.currentTimeMillis());
            String note = e.getMessage() + "; it was moved to " + aside.getFileName()
                    + " and a new log started, which will not replay until the TPM is reset";
            LOG.severe(note);
            notes.add(note);
            try {
                Files.move(file, aside, StandardCopyOption.ATOMIC_MOVE);
                return MeasurementLog.open(file);
            } catch (IOException io) {
                throw new AttestationException("cannot start a new measurement log " + file + ": " + io.getMessage(), io);
            }
        } catch (IOException e) {
            throw new AttestationException("cannot open the measurement log " + file + ": " + e.getMessage(), e);
        }
    }

    @Deactivate
    void deactivate() {
        context.removeBundleListener(this);
    }

    // ---- log against PCR --------------------------------------------------------------------------

    /**
     * Brings the log and the PCR into agreement where that is safe: a PCR found reset (TPM restart) starts a
     * new segment (checked first: a segment's first event lost to a crash is simply measured again); an
     * event written but not extended (a crash between the two) is extended now.
     * Anything else is a problem the status names, and evidence will not replay.
     */
    private void reconcile() {
        byte[] pcrValue = readPcr();
        List<MeasurementEntry> current = log.current();
        String mismatch = "the measurement log does not replay to PCR " + settings.pcr()
                + ": it was extended by something else, or the log was lost; attestation fails until the TPM is reset";
        if (Arrays.equals(replay(current), pcrValue)) {
            notes.remove(mismatch);
            return;
        }
        if (Arrays.equals(pcrValue, new byte[32])) {
            try {
                log.reset(clock.instant(), pcrValue);
            } catch (IOException e) {
                throw new AttestationException("cannot write the measurement log: " + e.getMessage(), e);
            }
            LOG.info("the TPM was reset: a new measurement log segment starts");
            notes.remove(mismatch);
            return;
        }
        if (!current.isEmpty() && Arrays.equals(replay(current.subList(0, current.size() - 1)), pcrValue)) {
            MeasurementEntry last = current.get(current.size() - 1);
            tpm.extendPcr(settings.pcr(), last.eventDigest());
            LOG.info("completed event " + last.sequence() + " (" + last.component()
                    + "): it was logged but not extended before a crash");
            notes.remove(mismatch);
            return;
        }
        if (notes.add(mismatch)) {
            LOG.severe(mismatch);
        }
    }

    private byte[] readPcr() {
        return tpm.readPcrs(settings.pcr()).get(0).value();
    }

    static byte[] replay(List<MeasurementEntry> events) {
        byte[] v = new byte[32];
        for (MeasurementEntry e : events) {
            MessageDigest md = sha256();
            md.update(v);
            md.update(e.eventDigest());
            v = md.digest();
        }
        return v;
    }

    // ---- Measurer ---------------------------------------------------------------------------------

    @Override
    public List<MeasurementEntry> measureAll() {
        synchronized (lock) {
            reconcile();
            List<MeasurementEntry> out = new ArrayList<>();
            for (Path binary : settings.binaries()) {
                Candidate c = measureBinary(binary);
                if (c != null) {
                    record(c, out);
                }
            }
            if (context != null) {
                for (Bundle b : context.getBundles()) {
                    if (isFerry(b) && b.getState() != Bundle.UNINSTALLED) {
                        record(measureBundle(b), out);
                    }
                }
            }
            return out;
        }
    }

    @Override
    public List<MeasurementEntry> log() {
        synchronized (lock) {
            return log.current();
        }
    }

    @Override
    public MeasurementStatus status() {
        synchronized (lock) {
            List<MeasurementEntry> current = log.current();
            String pcrHex = null;
            List<String> problems = new ArrayList<>(notes);
            try {
                pcrHex = HexFormat.of().formatHex(readPcr());
            } catch (TpmException e) {
                problems.add("the TPM is unavailable: " + e.getMessage());
            }
            String replay = HexFormat.of().formatHex(replay(current));
            if (pcrHex != null && !pcrHex.equals(replay) && problems.isEmpty()) {
                problems.add("the measurement log does not replay to PCR " + settings.pcr());
            }
            return new MeasurementStatus(settings.pcr(), log.file().toString(), current.size(), log.total(), pcrHex,
                    replay, problems.isEmpty() ? null : String.join("; ", problems));
        }
    }

    // ---- Attester ---------------------------------------------------------------------------------

    @Override
    public Evidence attest(byte[] nonce, byte[] binding) {
        byte[] qualifying = Evidence.qualifyingData(nonce, binding);
        int[] pcrs = java.util.stream.Stream.concat(java.util.stream.Stream.of(settings.pcr()),
                settings.bootPcrs().stream()).mapToInt(Integer::intValue).distinct().sorted().toArray();
        synchronized (lock) {
            // under the lock: no event is appended between the quote and the log it is sent with
            Quote q = tpm.quote(qualifying, pcrs);
            TpmPublic ak = tpm.attestationKey();
            return new Evidence(nonce, binding, q.attest(), q.signature(), q.pcrs(), log.current(),
                    ak.key().getEncoded(), ak.name());
        }
    }

    @Override
    public int measurementPcr() {
        return settings.pcr();
    }

    // ---- bundle events ----------------------------------------------------------------------------

    @Override
    public void bundleChanged(BundleEvent event) {
        if ((event.getType() != BundleEvent.INSTALLED && event.getType() != BundleEvent.UPDATED)
                || !isFerry(event.getBundle())) {
            return;
        }
        try {
            synchronized (lock) {
                reconcile();
                List<MeasurementEntry> out = new ArrayList<>();
                record(measureBundle(event.getBundle()), out);
            }
        } catch (RuntimeException e) {
            // never fail the framework's event delivery; the next measureAll() measures it
            LOG.log(Level.SEVERE, "cannot measure bundle " + event.getBundle().getSymbolicName() + " "
                    + event.getBundle().getVersion() + " on " + (event.getType() == BundleEvent.INSTALLED ? "install"
                            : "update") + ": " + e.getMessage(), e);
        }
    }

    private boolean isFerry(Bundle b) {
        String name = b.getSymbolicName();
        return name != null && settings.bundlePrefixes().stream().anyMatch(name::startsWith);
    }

    // ---- measuring --------------------------------------------------------------------------------

    record Candidate(ComponentKind kind, String component, String version, String sha256) {
    }

    /** Appends and extends unless the component's latest event since the reset says the same. */
    private void record(Candidate c, List<MeasurementEntry> out) {
        List<MeasurementEntry> current = log.current();
        for (int i = current.size() - 1; i >= 0; i--) {
            MeasurementEntry e = current.get(i);
            if (e.component().equals(c.component())) {
                if (e.kind() == c.kind() && e.version().equals(c.version()) && e.sha256().equals(c.sha256())) {
                    return;
                }
                break;
            }
        }
        MeasurementEntry e;
        try {
            e = log.append(new MeasurementEntry(1, settings.pcr(), c.kind(), c.component(), c.version(), c.sha256(),
                    clock.instant()));
        } catch (IOException io) {
            throw new AttestationException("cannot write the measurement log: " + io.getMessage(), io);
        }
        // written and forced first: a crash now leaves one event more than the PCR, which start-up completes
        tpm.extendPcr(settings.pcr(), e.eventDigest());
        out.add(e);
        LOG.info("measured " + e.kind().label() + " " + e.component() + " " + e.version() + " sha256 " + e.sha256());
    }

    private Candidate measureBinary(Path path) {
        String sha;
        try (InputStream in = Files.newInputStream(path)) {
            MessageDigest md = sha256();
            byte[] buf = new byte[64 * 1024];
            for (int n; (n = in.read(buf)) > 0;) {
                md.update(buf, 0, n);
            }
            sha = HexFormat.of().formatHex(md.digest());
        } catch (NoSuchFileException e) {
            String note = "the binary " + path + " does not exist: it is not measured";
            if (notes.add(note)) {
                LOG.warning(note);
            }
            return null;
        } catch (IOException e) {
            throw new AttestationException("cannot read " + path + " to measure it: " + e.getMessage(), e);
        }
        return new Candidate(ComponentKind.BINARY, path.getFileName().toString(), probeVersion(path), sha);
    }

    private String probeVersion(Path path) {
        if (!settings.probeVersions() || !Files.isExecutable(path)) {
            return "unknown";
        }
        Process p = null;
        try {
            p = new ProcessBuilder(path.toString(), "--version").redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            byte[] out = p.getInputStream().readNBytes(4096);
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                return "unknown";
            }
            String first = new String(out, java.nio.charset.StandardCharsets.UTF_8).lines().findFirst().orElse("");
            Matcher m = VERSION.matcher(first);
            return m.find() ? m.group(1) : "unknown";
        } catch (IOException e) {
            return "unknown";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "unknown";
        } finally {
            if (p != null) {
                p.destroyForcibly();
            }
        }
    }

    static Candidate measureBundle(Bundle b) {
        List<String> names = new ArrayList<>();
        collect(b, "/", names, 0);
        try {
            String sha = BundleDigest.of(names, name -> {
                URL url = b.getEntry(name);
                return url == null ? null : url.openStream();
            });
            return new Candidate(ComponentKind.BUNDLE, b.getSymbolicName(), b.getVersion().toString(), sha);
        } catch (IOException e) {
            throw new AttestationException("cannot read bundle " + b.getSymbolicName() + " to measure it: "
                    + e.getMessage(), e);
        }
    }

    private static void collect(Bundle b, String path, List<String> out, int depth) {
        if (depth > 64) {
            throw new AttestationException("bundle " + b.getSymbolicName() + " nests folders deeper than 64");
        }
        Enumeration<String> e = b.getEntryPaths(path);
        while (e != null && e.hasMoreElements()) {
            String p = e.nextElement();
            if (p.startsWith("/")) {
                p = p.substring(1);
            }
            if (p.endsWith("/")) {
                collect(b, p, out, depth + 1);
            } else {
                out.add(p);
            }
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
