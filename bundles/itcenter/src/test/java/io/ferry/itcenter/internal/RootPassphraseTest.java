package io.ferry.itcenter.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.seal.SealException;
import io.ferry.seal.testing.MemorySealStorage;

/** Where the root key's passphrase lives: the file without seal storage, sealed (migrated once) with it. */
class RootPassphraseTest {

    @TempDir
    Path dir;

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
        MemorySealStorage seal = new MemorySealStorage();

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
        MemorySealStorage seal = new MemorySealStorage();
        char[] pass = RootPassphrase.obtain(file(), seal, keystore());
        assertThat(file()).doesNotExist();
        assertThat(seal.secrets).containsKey(RootPassphrase.SECRET);
        assertThat(RootPassphrase.obtain(file(), seal, keystore())).isEqualTo(pass);
    }

    @Test
    void whenSealStorageCannotSealYetTheFileStaysAndIsMigratedLater() throws Exception {
        char[] pass = fileBasedCa();
        MemorySealStorage seal = new MemorySealStorage();
        seal.failPuts(SealException.Reason.NO_APPROVAL, "cannot seal");
        assertThat(RootPassphrase.obtain(file(), seal, keystore())).isEqualTo(pass);
        assertThat(file()).exists();
        assertThat(seal.secrets).isEmpty();

        seal.failPuts(null, null);
        assertThat(RootPassphrase.obtain(file(), seal, keystore())).isEqualTo(pass);
        assertThat(file()).doesNotExist();
    }

    @Test
    void aSealedPassphraseThatCannotBeUnsealedStopsTheItCenterWithoutFallingBack() throws Exception {
        fileBasedCa();
        MemorySealStorage seal = new MemorySealStorage();
        RootPassphrase.obtain(file(), seal, keystore());
        // someone puts a passphrase file back and changes the platform: the file is not used
        Files.writeString(file(), "attacker's choice");
        for (SealException.Reason r : List.of(SealException.Reason.PCR_MISMATCH, SealException.Reason.TPM_UNAVAILABLE,
                SealException.Reason.CORRUPT_BLOB)) {
            seal.failGets(r, "cannot unseal");
            assertThatThrownBy(() -> RootPassphrase.obtain(file(), seal, keystore())).isInstanceOf(ItCenterException.class)
                    .hasMessageContaining("cannot unseal the root key passphrase");
        }
        assertThat(Files.readString(file())).isEqualTo("attacker's choice");
        // unsealable again: the sealed one wins and the stray file goes
        seal.failGets(null, null);
        assertThat(new String(RootPassphrase.obtain(file(), seal, keystore()))).isNotEqualTo("attacker's choice");
        assertThat(file()).doesNotExist();
    }

    @Test
    void aKeyStoreWhosePassphraseIsNowhereIsNotReplacedByANewOne() {
        fileBasedCa();
        MemorySealStorage seal = new MemorySealStorage();
        assertThat(file().toFile().delete()).isTrue();
        assertThatThrownBy(() -> RootPassphrase.obtain(file(), seal, keystore())).isInstanceOf(ItCenterException.class)
                .hasMessageContaining("neither sealed");
        assertThat(seal.secrets).isEmpty();
    }
}
