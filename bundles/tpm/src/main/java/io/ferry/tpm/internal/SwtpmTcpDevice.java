package io.ferry.tpm.internal;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;

import tss.TpmDevice;

/**
 * A TPM reached over TCP with the TPM simulator protocol that swtpm's {@code --server type=tcp}
 * speaks: {@code TPM_SEND_COMMAND}, locality, size and command go out in one write on a socket
 * with TCP_NODELAY; the answer is size, response and a zero acknowledgement.
 * <p>
 * TSS.Java's own {@code TpmDeviceTcp} writes each field separately, so Nagle's algorithm and
 * delayed ACKs hold every command for about 44 ms; this device takes about 0.2 ms a command.
 * Only the command port is used: swtpm starts the TPM itself ({@code --flags startup-clear}).
 */
final class SwtpmTcpDevice extends TpmDevice {

    private static final int TPM_SEND_COMMAND = 8;
    private static final int TPM_SESSION_END = 20;
    private static final int MAX_RESPONSE = 64 * 1024;

    private final String host;
    private final int port;
    private final int timeoutMillis;
    private Socket socket;
    private OutputStream out;
    private DataInputStream in;
    private boolean pending;

    SwtpmTcpDevice(String host, int port, int timeoutMillis) {
        this.host = host;
        this.port = port;
        this.timeoutMillis = timeoutMillis;
    }

    String describe() {
        return "swtpm tcp " + host + ":" + port;
    }

    @Override
    public boolean connect() {
        Socket s = new Socket();
        try {
            s.setTcpNoDelay(true);
            s.connect(new InetSocketAddress(host, port), timeoutMillis);
            s.setSoTimeout(timeoutMillis);
            socket = s;
            out = s.getOutputStream();
            in = new DataInputStream(new java.io.BufferedInputStream(s.getInputStream()));
            return true;
        } catch (IOException e) {
            closeQuietly(s);
            throw new DeviceException("cannot connect to " + describe() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void dispatchCommand(byte[] command) {
        if (socket == null) {
            throw new DeviceException(describe() + " is not connected", null);
        }
        byte[] frame = ByteBuffer.allocate(9 + command.length).putInt(TPM_SEND_COMMAND).put((byte) 0)
                .putInt(command.length).put(command).array();
        try {
            out.write(frame);
            out.flush();
            pending = true;
        } catch (IOException e) {
            throw new DeviceException("cannot send a command to " + describe() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public byte[] getResponse() {
        if (!pending) {
            throw new DeviceException("no command was sent to " + describe(), null);
        }
        try {
            int size = in.readInt();
            if (size < 10 || size > MAX_RESPONSE) {
                throw new IOException("bad response size " + size);
            }
            byte[] response = new byte[size];
            in.readFully(response);
            int ack = in.readInt();
            if (ack != 0) {
                throw new IOException("swtpm acknowledged with " + ack);
            }
            pending = false;
            return response;
        } catch (IOException e) {
            throw new DeviceException("lost the connection to " + describe() + ": " + e, e);
        }
    }

    @Override
    public boolean responseReady() {
        return true;
    }

    @Override
    public void close() {
        Socket s = socket;
        socket = null;
        if (s != null) {
            try {
                s.getOutputStream().write(ByteBuffer.allocate(4).putInt(TPM_SESSION_END).array());
            } catch (IOException e) {
                // the connection is gone already
            }
            closeQuietly(s);
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // nothing left to release
        }
    }
}
