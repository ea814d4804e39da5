package io.ferry.itcenter.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.logging.Logger;

import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.itcenter.ItCenterException.Reason;
import io.ferry.api.seal.SealException;
import io.ferry.api.seal.SealStorage;

/**
 * The passphrase of the root key's PKCS#12 file: sealed in seal storage (secret {@value #SECRET})
 * when the IT center has it, else in an owner-only file, made random on first start.
 *
 * <p>With seal storage: a sealed passphrase is used, and a failure to unseal it (PCRs changed
 * without approval, TPM unreachable) stops the IT center rather than falling back to anything. A
 * passphrase still in the file is sealed once, read back, compared, and only then is the file
 * deleted. When seal storage cannot seal yet (no approval installed), the file is used as before
 * and migrated on a later start.
 */
final class RootPassphrase {

    static final String SECRET = "itcenter.ca.passphrase";
    private static final Logger LOG = Logger.getLogger(RootPassphrase.class.getName());

    private RootPassphrase() {
    }

    /**
     * The passphrase.
     *
     * @param file     the passphrase file (used without seal storage, migrated with it)
     * @param seal     seal storage, or null
     * @param keystore the root key store: when it exists, a new passphrase is never made up
     */
    static char[] obtain(Path file, SealStorage seal, Path keystore) {
        if (seal != null) {
            byte[] sealed = unsealed(seal);
            if (sealed != null) {
                if (Files.exists(file)) {
                    // a file left beside a sealed passphrase (e.g. restored from a backup): the sealed one wins
                    delete(file);
                }
                return chars(sealed);
            }
            byte[] secret = Files.exists(file) ? read(file)
                    : Files.exists(keystore) ? null : HttpsEndpoint.newSecret().getBytes(StandardCharsets.UTF_8);
            if (secret == null) {
                throw new ItCenterException(Reason.UNAVAILABLE, "the root key store " + keystore
                        + " exists, but its passphrase is neither sealed (" + SECRET + ") nor in " + file);
            }
            try {
                seal.put(SECRET, secret);
                if (!Arrays.equals(seal.get(SECRET), secret)) {
                    throw new ItCenterException(Reason.UNAVAILABLE, "the sealed root key passphrase reads back differently");
                }
            } catch (SealException e) {
                if (!Files.exists(file)) {
                    write(file, secret);
                }
                LOG.warning("the root key passphrase stays in " + file + " until seal storage can seal it: "
                        + e.getMessage());
                return chars(secret);
            }
            delete(file);
            LOG.info("the root key passphrase is sealed in seal storage (" + SECRET + ")"
                    + (Files.exists(keystore) ? "; the passphrase file was deleted" : ""));
            return chars(secret);
        }
        if (!Files.exists(file)) {
            write(file, HttpsEndpoint.newSecret().getBytes(StandardCharsets.UTF_8));
        }
        return chars(read(file));
    }

    /** The sealed passphrase, or null if none is sealed; any other failure stops the IT center. */
    private static byte[] unsealed(SealStorage seal) {
        try {
            return seal.get(SECRET);
        } catch (SealException e) {
            if (e.reason() == SealException.Reason.NO_SUCH_SECRET) {
                return null;
            }
            throw new ItCenterException(Reason.UNAVAILABLE,
                    "cannot unseal the root key passphrase (" + SECRET + "): " + e.getMessage(), e);
        }
    }

    private static char[] chars(byte[] secret) {
        return new String(secret, StandardCharsets.UTF_8).strip().toCharArray();
    }

    private static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ItCenterException(Reason.UNAVAILABLE, "cannot read the root key passphrase " + file, e);
        }
    }

    private static void write(Path file, byte[] secret) {
        try {
            CertificateAuthority.writePrivate(file, out -> out.write(secret));
        } catch (IOException | GeneralSecurityException e) {
            throw new ItCenterException(Reason.UNAVAILABLE, "cannot write the root key passphrase " + file, e);
        }
    }

    private static void delete(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw new ItCenterException(Reason.UNAVAILABLE, "cannot delete the passphrase file " + file
                    + " now that the passphrase is sealed: " + e.getMessage(), e);
        }
    }
}
