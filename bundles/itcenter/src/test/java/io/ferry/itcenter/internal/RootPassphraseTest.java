package io.ferry.itcenter.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.seal.Approval;
import io.ferry.api.seal.ApprovalRequest;
import io.ferry.api.seal.SealException;
import io.ferry.api.seal.SealStatus;
import io.ferry.api.seal.SealStorage;

/** Where the root key's passphrase lives: the file without seal storage, sealed (migrated once) with it. */
class RootPassphraseTest {

    @TempDir
    Path dir;

    /** Seal storage in memory (a unit-test stand-in; the real one is tested against swtpm in bundles/seal-storage). */
    static final class MemorySeal implements SealStorage {
        final Map<String, byte[]> secrets = new TreeMap<>();
        SealException.Reason failPut;
        SealException.Reason failGet;

        @Override
        public void put(String name, byte[] secret) {
            if (failPut != null) {
                throw new SealException("put", name, failPut, "cannot seal");
            }
            secrets.put(name, secret.clone());
        }

        @Override
        public byte[] get(String name) {
            if (failGet != null) {
                throw new SealException("get", name, failGet, "cannot unseal");
            }
            byte[] s = secrets.get(name);
            if (s == null) {
                throw new SealException("get", name, SealException.Reason.NO_SUCH_SECRET, "no such secret");
            }
            return s.clone();
        }

        @Override
        public List<String> list() {
            return List.copyOf(secrets.keySet());
        }

        @Override
        public boolean delete(String name) {
            return secrets.remove(name) != null;
        }

        @Override
        public SealStatus status() {
            throw new UnsupportedOperationException();
        }

        @Override
        public ApprovalRequest approvalRequest() {
            throw new UnsupportedOperationException();
        }

        @Override
        public void approve(Approval approval) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void rotate(Approval approvalOrNull) {
            throw new UnsupportedOperationException();
        }
    }

    private Path file() {
        return dir.resolve("ca/root.pass");
    }

    private Path keystore() {
        return dir.resolve("ca/root.p12");
    }

    /** A CA made with the file-based passphrase, as every IT center before seal storage. */
    private char[] fileBasedCa() {
        char[] pass = RootPassphrase.obtain(file(), null, keystore());
        CertificateAuthority.openOrCreate(keystore(), pass, "test root", Clock.systemUTC());
        assertThat(file()).exists();
        return pass;
    }

    @Test
    void withoutSealStorageTheFileIsMadeOnceAndKept() throws Exception {
        char[] first = RootPassphrase.obtain(file(), null, keystore());
        assertThat(first).hasSizeGreaterThanOrEqualTo(32);
        assertThat(RootPassphrase.obtain(file(), null, keystore())).isEqualTo(first);
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(file())))
                .isEqualTo("rw-------");
    }

    @Test
    void aFileBasedPassphraseIsSealedOnceAndTheFileDeleted() throws Exception {
        char[] pass = fileBasedCa();
        MemorySeal seal = new MemorySeal();

        assertThat(RootPassphrase.obtain(file(), seal, keystore())).isEqualTo(pass);
        assertThat(file()).doesNotExist();
        assertThat(new String(seal.secrets.get(RootPassphrase.SECRET), StandardCharsets.UTF_8).strip())
                .isEqualTo(new String(pass));
        // the next start unseals it, and the CA opens with it
        char[] again = RootPassphrase.obtain(file(), seal, keystore());
        assertThat(again).isEqualTo(pass);
        assertThat(CertificateAuthority.openOrCreate(keystore(), again, "test root", Clock.systemUTC()).root())
                .isNotNull();
        assertThat(file()).doesNotExist();
    }

    @Test
    void aNewItCenterWithSealStorageNeverWritesTheFile() {
        MemorySeal seal = new MemorySeal();
        char[] pass = RootPassphrase.obtain(file(), seal, keystore());
        assertThat(file()).doesNotExist();
        assertThat(seal.secrets).containsKey(RootPassphrase.SECRET);
        assertThat(RootPassphrase.obtain(file(), seal, keystore())).isEqualTo(pass);
    }

    @Test
    void whenSealStorageCannotSealYetTheFileStaysAndIsMigratedLater() throws Exception {
        char[] pass = fileBasedCa();
        MemorySeal seal = new MemorySeal();
        seal.failPut = SealException.Reason.NO_APPROVAL;
        assertThat(RootPassphrase.obtain(file(), seal, keystore())).isEqualTo(pass);
        assertThat(file()).exists();
        assertThat(seal.secrets).isEmpty();

        seal.failPut = null;
        assertThat(RootPassphrase.obtain(file(), seal, keystore())).isEqualTo(pass);
        assertThat(file()).doesNotExist();
    }

    @Test
    void aSealedPassphraseThatCannotBeUnsealedStopsTheItCenterWithoutFallingBack() throws Exception {
        fileBasedCa();
        MemorySeal seal = new MemorySeal();
        RootPassphrase.obtain(file(), seal, keystore());
        // someone puts a passphrase file back and changes the platform: the file is not used
        Files.writeString(file(), "attacker's choice");
        for (SealException.Reason r : List.of(SealException.Reason.PCR_MISMATCH, SealException.Reason.TPM_UNAVAILABLE,
                SealException.Reason.CORRUPT_BLOB)) {
            seal.failGet = r;
            assertThatThrownBy(() -> RootPassphrase.obtain(file(), seal, keystore())).isInstanceOf(ItCenterException.class)
                    .hasMessageContaining("cannot unseal the root key passphrase");
        }
        assertThat(Files.readString(file())).isEqualTo("attacker's choice");
        // unsealable again: the sealed one wins and the stray file goes
        seal.failGet = null;
        assertThat(new String(RootPassphrase.obtain(file(), seal, keystore()))).isNotEqualTo("attacker's choice");
        assertThat(file()).doesNotExist();
    }

    @Test
    void aKeyStoreWhosePassphraseIsNowhereIsNotReplacedByANewOne() {
        fileBasedCa();
        MemorySeal seal = new MemorySeal();
        assertThat(file().toFile().delete()).isTrue();
        assertThatThrownBy(() -> RootPassphrase.obtain(file(), seal, keystore())).isInstanceOf(ItCenterException.class)
                .hasMessageContaining("neither sealed");
        assertThat(seal.secrets).isEmpty();
    }
}
