package io.ferry.seal.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.regex.Pattern;

import io.ferry.api.seal.Approval;
import io.ferry.api.seal.ApprovalRequest;
import io.ferry.api.seal.SealException;
import io.ferry.api.seal.SealStatus;
import io.ferry.api.seal.SealStorage;

/**
 * Seal storage in memory, for unit tests of the areas that keep secrets in it (the real one needs a TPM and
 * is tested against swtpm here, in TpmSealStorageTest). Secret names follow the real store's rule; puts and
 * gets can be made to fail with a reason, as an unapproved platform state or a missing approval makes the
 * real one fail. Approvals are the real store's business: those calls are not supported. Shipped in this
 * module's test jar.
 */
public final class MemorySealStorage implements SealStorage {

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}");

    /** The secrets as stored (copies), by name: tests look at them directly. */
    public final SortedMap<String, byte[]> secrets = new TreeMap<>();
    /** How many puts succeeded. */
    public int puts;
    private SealException.Reason failPut;
    private String failPutMessage;
    private SealException.Reason failGet;
    private String failGetMessage;

    /** From now on every put fails with that reason and message; {@code null} lets puts work again. */
    public synchronized void failPuts(SealException.Reason reason, String message) {
        failPut = reason;
        failPutMessage = message;
    }

    /** From now on every get fails with that reason and message; {@code null} lets gets work again. */
    public synchronized void failGets(SealException.Reason reason, String message) {
        failGet = reason;
        failGetMessage = message;
    }

    @Override
    public synchronized SealStatus status() {
        return new SealStatus("memory", List.of(), 1, 1, "", 1, secrets.size(), failGet == null, null);
    }

    @Override
    public synchronized List<String> list() {
        return new ArrayList<>(secrets.keySet());
    }

    @Override
    public synchronized void put(String name, byte[] secret) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new SealException("put", name, SealException.Reason.INVALID_INPUT, "bad secret name");
        }
        if (failPut != null) {
            throw new SealException("put", name, failPut, failPutMessage);
        }
        secrets.put(name, secret.clone());
        puts++;
    }

    @Override
    public synchronized byte[] get(String name) {
        if (failGet != null) {
            throw new SealException("get", name, failGet, failGetMessage);
        }
        byte[] s = secrets.get(name);
        if (s == null) {
            throw new SealException("get", name, SealException.Reason.NO_SUCH_SECRET, "no such secret");
        }
        return s.clone();
    }

    @Override
    public synchronized boolean delete(String name) {
        return secrets.remove(name) != null;
    }

    @Override
    public ApprovalRequest approvalRequest() {
        throw new UnsupportedOperationException("approvals: see TpmSealStorageTest");
    }

    @Override
    public void approve(Approval approval) {
        throw new UnsupportedOperationException("approvals: see TpmSealStorageTest");
    }

    @Override
    public void rotate(Approval approvalOrNull) {
        throw new UnsupportedOperationException("approvals: see TpmSealStorageTest");
    }
}
