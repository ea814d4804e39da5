package io.ferry.tpm.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A private swtpm for one test class (or one benchmark): a fresh state made by swtpm_setup with
 * an EK, an EK certificate and a platform certificate from its own local CA, all in a temporary
 * folder (never the system's swtpm folders), served on a free TCP port pair on 127.0.0.1.
 * Use as {@code @RegisterExtension static Swtpm swtpm = new Swtpm();}.
 */
public final class Swtpm implements BeforeAllCallback, AfterAllCallback, AutoCloseable {

    private Path dir;
    private Path state;
    private int port;
    private Process process;

    public Swtpm start() {
        try {
            dir = Files.createTempDirectory("ferry-swtpm-");
            state = Files.createDirectories(dir.resolve("state"));
            Path ca = Files.createDirectories(dir.resolve("localca"));
            Files.writeString(dir.resolve("swtpm-localca.conf"), "statedir = " + ca + "\n"
                    + "signingkey = " + ca.resolve("signkey.pem") + "\n"
                    + "issuercert = " + ca.resolve("issuercert.pem") + "\n"
                    + "certserial = " + ca.resolve("certserial") + "\n");
            Files.writeString(dir.resolve("swtpm-localca.options"),
                    "--platform-manufacturer Ferry\n--platform-version 2.1\n--platform-model swtpm\n");
            Files.writeString(dir.resolve("swtpm_setup.conf"), "create_certs_tool = /usr/bin/swtpm_localca\n"
                    + "create_certs_tool_config = " + dir.resolve("swtpm-localca.conf") + "\n"
                    + "create_certs_tool_options = " + dir.resolve("swtpm-localca.options") + "\n"
                    + "active_pcr_banks = sha256\n");
            run(List.of("swtpm_setup", "--tpm2", "--tpmstate", state.toString(), "--config",
                    dir.resolve("swtpm_setup.conf").toString(), "--createek", "--create-ek-cert",
                    "--create-platform-cert", "--lock-nvram", "--pcr-banks", "sha256", "--not-overwrite"));
            launch();
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void launch() throws IOException {
        if (port == 0) {
            port = freePortPair();
        }
        ProcessBuilder pb = new ProcessBuilder("swtpm", "socket", "--tpm2", "--tpmstate", "dir=" + state,
                "--server", "type=tcp,port=" + port + ",bindaddr=127.0.0.1",
                "--ctrl", "type=tcp,port=" + (port + 1) + ",bindaddr=127.0.0.1",
                "--flags", "not-need-init,startup-clear", "--log", "file=" + dir.resolve("swtpm.log"));
        pb.redirectErrorStream(true).redirectOutput(dir.resolve("swtpm.out").toFile());
        process = pb.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("swtpm exited with " + process.exitValue() + ": "
                        + Files.readString(dir.resolve("swtpm.out")));
            }
            // both ports: the control port opens first, and a client that comes right after a
            // restart must find the command port listening too
            if (listens(port + 1) && listens(port)) {
                return;
            }
            sleep(50);
        }
        throw new IllegalStateException("swtpm did not listen on " + port + " and " + (port + 1) + " within 10 s");
    }

    private static boolean listens(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The command port (the ctrl port is one above). */
    public int port() {
        return port;
    }

    public String host() {
        return "127.0.0.1";
    }

    /** The tpm2-tools TCTI for this swtpm. */
    public String tcti() {
        return "swtpm:host=127.0.0.1,port=" + port;
    }

    public Path dir() {
        return dir;
    }

    /** Kills swtpm at once (SIGKILL), as a crash or power loss would. */
    public void kill() {
        process.destroyForcibly();
        waitFor();
    }

    /** Starts swtpm again on the same state and the same ports. */
    public void restart() {
        try {
            launch();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs a command (tpm2-tools etc.), returns its output; fails on a non-zero exit. */
    public static String run(List<String> command) {
        try {
            Process p = new ProcessBuilder(new ArrayList<>(command)).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed: " + out);
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        if (process != null) {
            process.destroy(); // SIGTERM: swtpm saves its state and exits
            waitFor();
        }
        if (dir != null) {
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException e) {
                // a temp folder left behind is harmless
            }
        }
    }

    private void waitFor() {
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        start();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        close();
    }

    private static int freePortPair() throws IOException {
        for (int attempt = 0; attempt < 50; attempt++) {
            int p;
            try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                p = s.getLocalPort();
            }
            if (p < 65535 && free(p) && free(p + 1)) {
                return p;
            }
        }
        throw new IOException("no free port pair on 127.0.0.1");
    }

    private static boolean free(int p) {
        try (ServerSocket s = new ServerSocket(p, 1, java.net.InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
