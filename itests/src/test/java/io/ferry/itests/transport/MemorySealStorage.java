package io.ferry.itests.transport;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import io.ferry.api.seal.Approval;
import io.ferry.api.seal.ApprovalRequest;
import io.ferry.api.seal.SealException;
import io.ferry.api.seal.SealStatus;
import io.ferry.api.seal.SealStorage;

/** Seal storage in memory (no TPM) under the real policy service of SecureMigrationIT. */
final class MemorySealStorage implements SealStorage {

    private final Map<String, byte[]> secrets = new ConcurrentHashMap<>();

    @Override
    public SealStatus status() {
        throw new UnsupportedOperationException("in-memory test storage");
    }

    @Override
    public List<String> list() {
        List<String> names = new ArrayList<>(secrets.keySet());
        names.sort(null);
        return names;
    }

    @Override
    public void put(String name, byte[] secret) {
        secrets.put(name, secret.clone());
    }

    @Override
    public byte[] get(String name) {
        byte[] s = secrets.get(name);
        if (s == null) {
            throw new SealException("get", name, SealException.Reason.NO_SUCH_SECRET, "no secret " + name);
        }
        return s.clone();
    }

    @Override
    public boolean delete(String name) {
        return secrets.remove(name) != null;
    }

    @Override
    public ApprovalRequest approvalRequest() {
        throw new UnsupportedOperationException("in-memory test storage");
    }

    @Override
    public void approve(Approval approval) {
        throw new UnsupportedOperationException("in-memory test storage");
    }

    @Override
    public void rotate(Approval approvalOrNull) {
        throw new UnsupportedOperationException("in-memory test storage");
    }
}
