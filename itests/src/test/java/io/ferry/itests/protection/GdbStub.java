package io.ferry.itests.protection;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

import io.ferry.api.hypervisor.Hypervisor;

/**
 * Writes guest memory from the host the way an attacker with access to QEMU could: QEMU's gdbstub,
 * started through the monitor, and one GDB remote-protocol memory write ({@code M}) at a
 * guest-virtual address. The write ignores the page's read-only protection, as a hypervisor-level
 * attacker would. Connecting stops the guest; detaching resumes it.
 */
final class GdbStub {

    private GdbStub() {
    }

    static void write(Hypervisor hv, String domain, int port, long virtual, byte[] data) throws IOException {
        String started = hv.monitorCommand(domain, "gdbserver tcp:127.0.0.1:" + port);
        if (!started.contains("Waiting for gdb connection")) {
            throw new IOException("gdbserver did not start: " + started);
        }
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
            s.setSoTimeout(10_000);
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            request(in, out, "?");
            String reply = request(in, out, "M" + Long.toHexString(virtual) + "," + Integer.toHexString(data.length)
                    + ":" + HexFormat.of().formatHex(data));
            if (!"OK".equals(reply)) {
                throw new IOException("memory write refused: " + reply);
            }
            send(out, "D");
        } finally {
            hv.monitorCommand(domain, "gdbserver none");
        }
    }

    /** Sends a packet and returns its reply, skipping stop notifications ({@code T..}, {@code S..}) the stub sends first. */
    private static String request(InputStream in, OutputStream out, String packet) throws IOException {
        send(out, packet);
        String reply;
        do {
            reply = receive(in, out);
        } while (!packet.equals("?") && (reply.startsWith("T") || reply.startsWith("S")));
        return reply;
    }

    private static String receive(InputStream in, OutputStream out) throws IOException {
        // skip acks and notifications until a packet: $...#cs
        int c;
        while ((c = in.read()) != '$') {
            if (c < 0) {
                throw new IOException("gdbstub closed the connection");
            }
        }
        StringBuilder body = new StringBuilder();
        while ((c = in.read()) != '#') {
            if (c < 0) {
                throw new IOException("gdbstub closed the connection");
            }
            body.append((char) c);
        }
        in.read();
        in.read();
        out.write('+');
        out.flush();
        return body.toString();
    }

    private static void send(OutputStream out, String packet) throws IOException {
        int sum = 0;
        for (byte b : packet.getBytes(StandardCharsets.US_ASCII)) {
            sum = (sum + (b & 0xff)) & 0xff;
        }
        out.write(String.format("$%s#%02x", packet, sum).getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }
}
