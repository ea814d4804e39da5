package io.ferry.itests.transport;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;

/** Counts occurrences of a marker in byte streams fed in arbitrary pieces. */
final class MarkerScan {

    private final byte[] marker;
    final AtomicLong found = new AtomicLong();

    MarkerScan(byte[] marker) {
        this.marker = marker.clone();
    }

    /** One stream's state: the bytes of the previous piece that may start a marker. */
    final class Stream {
        private byte[] tail = new byte[0];

        void feed(byte[] b, int off, int len) {
            byte[] window = new byte[tail.length + len];
            System.arraycopy(tail, 0, window, 0, tail.length);
            System.arraycopy(b, off, window, tail.length, len);
            for (int i = 0; i + marker.length <= window.length; i++) {
                if (window[i] == marker[0] && Arrays.equals(window, i, i + marker.length, marker, 0, marker.length)) {
                    found.incrementAndGet();
                }
            }
            int keep = Math.min(marker.length - 1, window.length);
            tail = Arrays.copyOfRange(window, window.length - keep, window.length);
        }
    }

    Stream stream() {
        return new Stream();
    }
}
