package io.ferry.checkpoint.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.zip.Deflater;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

import com.github.luben.zstd.ZstdInputStreamNoFinalizer;
import com.github.luben.zstd.ZstdOutputStreamNoFinalizer;

import io.ferry.api.checkpoint.Compression;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4FrameInputStream;
import net.jpountz.lz4.LZ4FrameOutputStream;
import net.jpountz.xxhash.XXHashFactory;

/**
 * Compression of checkpoint data, in Java (libvirt's own gzip image format is slower and larger
 * than raw here). Fast settings throughout: zstd level 1, gzip level 1, LZ4 frames; LZ4 only in
 * its pure-Java safe implementation. With a dictionary (the previous memory image), zstd finds
 * the pages that did not change and stores them as references: the incremental memory image.
 */
final class Codecs {

    static final int ZSTD_LEVEL = 1;
    /** zstd's window for dictionary compression: covers a dictionary of up to 1 GiB. */
    static final int ZSTD_DICT_WINDOW_LOG = 30;

    private Codecs() {
    }

    static OutputStream compress(Compression c, OutputStream out, byte[] dictionary) throws IOException {
        if (dictionary != null && c != Compression.ZSTD) {
            throw new IllegalArgumentException("a dictionary needs zstd");
        }
        switch (c) {
            case NONE:
                return new NonClosing(out);
            case GZIP:
                return new GZIPOutputStream(new NonClosing(out), 1 << 16) {
                    {
                        def.setLevel(Deflater.BEST_SPEED);
                    }
                };
            case ZSTD: {
                ZstdOutputStreamNoFinalizer z = new ZstdOutputStreamNoFinalizer(new NonClosing(out), ZSTD_LEVEL);
                if (dictionary != null) {
                    z.setLong(ZSTD_DICT_WINDOW_LOG);
                    z.setDict(dictionary);
                }
                return z;
            }
            case LZ4:
                return new LZ4FrameOutputStream(new NonClosing(out), LZ4FrameOutputStream.BLOCKSIZE.SIZE_4MB,
                        -1L, LZ4Factory.safeInstance().fastCompressor(), XXHashFactory.safeInstance().hash32(),
                        LZ4FrameOutputStream.FLG.Bits.BLOCK_INDEPENDENCE);
            default:
                throw new IllegalArgumentException(String.valueOf(c));
        }
    }

    static InputStream decompress(Compression c, InputStream in, byte[] dictionary) throws IOException {
        switch (c) {
            case NONE:
                return in;
            case GZIP:
                return new GZIPInputStream(in, 1 << 16);
            case ZSTD: {
                ZstdInputStreamNoFinalizer z = new ZstdInputStreamNoFinalizer(in);
                z.setLongMax(ZSTD_DICT_WINDOW_LOG);
                if (dictionary != null) {
                    z.setDict(dictionary);
                }
                return z;
            }
            case LZ4:
                return new LZ4FrameInputStream(in, LZ4Factory.safeInstance().safeDecompressor(),
                        XXHashFactory.safeInstance().hash32());
            default:
                throw new IllegalArgumentException(String.valueOf(c));
        }
    }

    /** Lets a compressor finish its frame on close without closing the stream below. */
    static final class NonClosing extends java.io.FilterOutputStream {

        NonClosing(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public void close() throws IOException {
            flush();
        }
    }
}
