package io.ferry.hypervisor.protection.internal;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

import io.ferry.api.protection.ProtectionAlert;
import io.ferry.api.protection.ProtectionAlert.Kind;

/** The newest alerts, bounded. */
final class Alerts {

    private final int capacity;
    private final Deque<ProtectionAlert> alerts = new ArrayDeque<>();
    private long seq;

    Alerts(int capacity) {
        this.capacity = Math.max(1, capacity);
    }

    synchronized ProtectionAlert add(Instant time, Kind kind, String host, String domain, String detail, String action) {
        ProtectionAlert a = new ProtectionAlert(++seq, time, kind, host, domain, detail, action);
        alerts.addLast(a);
        while (alerts.size() > capacity) {
            alerts.removeFirst();
        }
        return a;
    }

    synchronized List<ProtectionAlert> newest(int limit) {
        List<ProtectionAlert> all = new ArrayList<>(alerts);
        return List.copyOf(all.subList(Math.max(0, all.size() - Math.max(0, limit)), all.size()));
    }

    synchronized long count() {
        return seq;
    }
}
