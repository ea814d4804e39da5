package io.ferry.enrolment.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import io.ferry.api.seal.Approval;
import io.ferry.api.seal.ApprovalRequest;
import io.ferry.api.seal.SealException;
import io.ferry.api.seal.SealStatus;
import io.ferry.api.seal.SealStorage;

/** Seal storage in memory, for unit tests (the real one needs a TPM). */
final class MemorySealStorage implements SealStorage {

    final Map<String, byte[]> secrets = new TreeMap<>();

    @Override
    public synchronized List<String> list() {
        return new ArrayList<>(secrets.keySet());
    }

    @Override
    public synchronized void put(String name, byte[] secret) {
        secrets.put(name, secret.clone());
    }

    @Override
    public synchronized byte[] get(String name) {
        byte[] s = secrets.get(name);
        if (s == null) {
            throw new SealException("get", name, SealException.Reason.NO_SUCH_SECRET, "no secret " + name);
        }
        return s.clone();
    }

    @Override
    public synchronized boolean delete(String name) {
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
