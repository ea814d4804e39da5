package io.ferry.seal.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

import io.ferry.api.seal.SealException;

/** The stand-in behaves as the tests that use it expect of seal storage. */
class MemorySealStorageTest {

    private final MemorySealStorage seal = new MemorySealStorage();

    @Test
    void keepsCopiesAndCountsPuts() {
        byte[] value = { 1, 2, 3 };
        seal.put("b", value);
        seal.put("a.key", new byte[] { 9 });
        value[0] = 7;
        byte[] got = seal.get("b");
        got[1] = 7;
        assertThat(seal.get("b")).containsExactly(1, 2, 3);
        assertThat(seal.list()).containsExactly("a.key", "b");
        assertThat(seal.puts).isEqualTo(2);
        assertThat(seal.delete("b")).isTrue();
        assertThat(seal.delete("b")).isFalse();
        assertThatThrownBy(() -> seal.get("b")).isInstanceOfSatisfying(SealException.class,
                e -> assertThat(e.reason()).isEqualTo(SealException.Reason.NO_SUCH_SECRET));
    }

    @Test
    void refusesNamesTheRealStoreRefuses() {
        for (String bad : new String[] { "", ".hidden", "a/b", "../x", "x".repeat(129), "sp ace" }) {
            assertThatThrownBy(() -> seal.put(bad, new byte[1])).as(bad).isInstanceOfSatisfying(SealException.class,
                    e -> assertThat(e.reason()).isEqualTo(SealException.Reason.INVALID_INPUT));
        }
        assertThat(seal.secrets).isEmpty();
        assertThat(seal.puts).isZero();
    }

    @Test
    void failsPutsAndGetsSeparatelyUntilCleared() {
        seal.put("s", new byte[] { 1 });
        seal.failGets(SealException.Reason.PCR_MISMATCH, "PCR 23 differs");
        assertThatThrownBy(() -> seal.get("s")).isInstanceOfSatisfying(SealException.class, e -> {
            assertThat(e.reason()).isEqualTo(SealException.Reason.PCR_MISMATCH);
            assertThat(e).hasMessageContaining("PCR 23 differs").hasMessageContaining("'s'");
        });
        assertThat(seal.status().unsealable()).isFalse();
        seal.put("t", new byte[] { 2 });
        seal.failPuts(SealException.Reason.NO_APPROVAL, "no approval");
        assertThatThrownBy(() -> seal.put("u", new byte[1])).isInstanceOfSatisfying(SealException.class,
                e -> assertThat(e.reason()).isEqualTo(SealException.Reason.NO_APPROVAL));
        assertThat(seal.secrets).containsOnlyKeys("s", "t");
        seal.failGets(null, null);
        seal.failPuts(null, null);
        assertThat(seal.get("s")).containsExactly(1);
        seal.put("u", new byte[] { 3 });
        assertThat(seal.puts).isEqualTo(3);
    }
}
