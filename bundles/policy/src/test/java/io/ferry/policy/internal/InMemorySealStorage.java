package io.ferry.policy.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

import io.ferry.api.seal.Approval;
import io.ferry.api.seal.ApprovalRequest;
import io.ferry.api.seal.SealException;
import io.ferry.api.seal.SealStatus;
import io.ferry.api.seal.SealStorage;

/** Seal storage as a map, with the real one's name rule and switchable failures. */
final class InMemorySealStorage implements SealStorage {

    final TreeMap<String, byte[]> secrets = new TreeMap<>();
    int puts;
    /** When set, get and put fail with it (e.g. PCR_MISMATCH). */
    SealException.Reason failing;

    @Override
    public SealStatus status() {
        return new SealStatus("memory", List.of(), 1, 1, "", 1, secrets.size(), failing == null, null);
    }

    @Override
    public List<String> list() {
        return new ArrayList<>(secrets.keySet());
    }

    @Override
    public void put(String name, byte[] secret) {
        if (!name.matches("[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}")) {
            throw new SealException("put", name, SealException.Reason.INVALID_INPUT, "bad name");
        }
        fail("put", name);
        puts++;
        secrets.put(name, secret.clone());
    }

    @Override
    public byte[] get(String name) {
        fail("get", name);
        byte[] s = secrets.get(name);
        if (s == null) {
            throw new SealException("get", name, SealException.Reason.NO_SUCH_SECRET, "no such secret");
        }
        return s.clone();
    }

    @Override
    public boolean delete(String name) {
        return secrets.remove(name) != null;
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

    private void fail(String op, String name) {
        if (failing != null) {
            throw new SealException(op, name, failing, "PCR 23 differs from the approved value");
        }
    }
}
