package io.ferry.tpm.internal;

import java.io.IOException;
import java.io.RandomAccessFile;

import tss.TpmDevice;

/**
 * A TPM character device, normally the kernel's resource manager {@code /dev/tpmrm0}: one write
 * of the command, one read of the response.
 */
final class CharDevice extends TpmDevice {

    private final String path;
    private RandomAccessFile file;
    private byte[] response;

    CharDevice(String path) {
        this.path = path;
    }

    String describe() {
        return path;
    }

    @Override
    public boolean connect() {
        try {
            file = new RandomAccessFile(path, "rw");
            return true;
        } catch (IOException e) {
            throw new DeviceException("cannot open " + path + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void dispatchCommand(byte[] command) {
        try {
            file.write(command);
            byte[] buf = new byte[8192];
            int n = file.read(buf);
            if (n < 10) {
                throw new IOException("short response (" + n + " bytes)");
            }
            response = java.util.Arrays.copyOf(buf, n);
        } catch (IOException | NullPointerException e) {
            throw new DeviceException("cannot talk to " + path + ": " + e.getMessage(), e);
        }
    }

    @Override
    public byte[] getResponse() {
        byte[] r = response;
        response = null;
        return r;
    }

    @Override
    public boolean responseReady() {
        return response != null;
    }

    @Override
    public void close() {
        if (file != null) {
            try {
                file.close();
            } catch (IOException e) {
                // nothing left to release
            }
            file = null;
        }
    }
}
