package io.ferry.policy.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.KeyPair;

import org.junit.jupiter.api.Test;

import com.nimbusds.jose.util.JSONObjectUtils;

import io.ferry.api.itcenter.AccessDeniedException;
import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.policy.PolicyException;
import io.ferry.api.policy.PolicyException.Reason;
import io.ferry.seal.testing.MemorySealStorage;

/** policy:fetch: the policy comes from the IT center through the link, and is checked as a file would be. */
class FetchPolicyTest {

    static final KeyPair IT_CENTER = Fixtures.p256();

    final NimbusPolicySigner signer = new NimbusPolicySigner();
    final MemorySealStorage storage = new MemorySealStorage();
    final SealedPolicyService service = new SealedPolicyService(storage, Fixtures.LEVELS, IT_CENTER.getPublic());

    static String answer(String jws) {
        return JSONObjectUtils.toJSONString(java.util.Map.of("name", "alice-desktop", "uuid", Fixtures.UUID,
                "version", 3, "jws", jws));
    }

    String signed(long version, KeyPair key) {
        return signer.sign(Fixtures.version(version), Fixtures.LEVELS, key).jws();
    }

    void refused(String vm, Reason reason, String message) {
        int puts = storage.puts;
        assertThatThrownBy(() -> service.fetchPolicy(vm)).isInstanceOf(PolicyException.class)
                .hasMessageContaining(message).extracting(e -> ((PolicyException) e).reason()).isEqualTo(reason);
        assertThat(storage.puts).as("nothing stored").isEqualTo(puts);
    }

    @Test
    void fetchesByNameThroughTheLinkAndImports() {
        FakeItCenterLink link = new FakeItCenterLink((m, p, j) -> answer(signed(3, IT_CENTER)));
        service.link = link;
        assertThat(service.fetchPolicy("alice-desktop").policy().version()).isEqualTo(3);
        assertThat(link.calls).singleElement().satisfies(c -> {
            assertThat(c.method()).isEqualTo("GET");
            assertThat(c.path()).isEqualTo("vms/alice-desktop/policy");
            assertThat(c.json()).isNull();
        });
        assertThat(service.get(Fixtures.UUID)).isPresent();
        assertThat(service.fetchPolicy(Fixtures.UUID).policy().version()).isEqualTo(3); // by UUID, held already
        assertThat(storage.puts).isEqualTo(1);
    }

    @Test
    void nameIsEncodedInThePath() {
        FakeItCenterLink link = new FakeItCenterLink((m, p, j) -> {
            throw new ItCenterException(ItCenterException.Reason.NOT_FOUND, "no VM");
        });
        service.link = link;
        refused("a b/../c", Reason.NO_SUCH_POLICY, "has published no policy");
        assertThat(link.calls.get(0).path()).isEqualTo("vms/a%20b%2F..%2Fc/policy");
    }

    @Test
    void withoutALinkItSaysSo() {
        refused("alice-desktop", Reason.ITCENTER, "no link to its IT center");
    }

    @Test
    void unreachableOrRefusingItCenter() {
        service.link = new FakeItCenterLink((m, p, j) -> {
            throw new ItCenterException(ItCenterException.Reason.UNAVAILABLE, "connection refused");
        });
        refused("alice-desktop", Reason.ITCENTER, "connection refused");
        service.link = new FakeItCenterLink((m, p, j) -> {
            throw new AccessDeniedException(AccessDeniedException.Reason.REVOKED, "certificate 1f is revoked");
        });
        refused("alice-desktop", Reason.ITCENTER, "refused this agent: certificate 1f is revoked");
    }

    @Test
    void garbageAnswersAreRefused() {
        service.link = new FakeItCenterLink((m, p, j) -> "<html>proxy error</html>");
        refused("alice-desktop", Reason.ITCENTER, "not a published policy");
        service.link = new FakeItCenterLink((m, p, j) -> "{\"name\":\"alice-desktop\"}");
        refused("alice-desktop", Reason.ITCENTER, "no signed policy");
        service.link = new FakeItCenterLink((m, p, j) -> "{\"jws\":42}");
        refused("alice-desktop", Reason.ITCENTER, "not a published policy");
    }

    @Test
    void theItCenterAnswerIsTrustedNoMoreThanAFile() {
        // a policy signed by another key (a man in the middle, or another IT center)
        service.link = new FakeItCenterLink((m, p, j) -> answer(signed(3, Fixtures.p256())));
        refused("alice-desktop", Reason.WRONG_KEY, "IT center key");
        // a genuine policy, but for another VM than asked
        service.link = new FakeItCenterLink((m, p, j) -> answer(signed(3, IT_CENTER)));
        refused("bob-vm", Reason.WRONG_VM, "asked the IT center for VM 'bob-vm'");
        // an old version after a newer one is held
        service.importPolicy(signed(5, IT_CENTER));
        refused("alice-desktop", Reason.ROLLBACK, "holds version 5");
    }
}
