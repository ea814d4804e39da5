package io.ferry.policy.internal;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import io.ferry.api.itcenter.ItCenterLink;

/** An ItCenterLink that answers with a handler and records every call. */
final class FakeItCenterLink implements ItCenterLink {

    /** One call. */
    record Call(String method, String path, String json) {
    }

    @FunctionalInterface
    interface Handler {
        String answer(String method, String path, String json) throws InterruptedException;
    }

    final List<Call> calls = new CopyOnWriteArrayList<>();
    volatile Handler handler;

    FakeItCenterLink(Handler handler) {
        this.handler = handler;
    }

    @Override
    public URI uri() {
        return URI.create("https://itcenter.test:8443/");
    }

    @Override
    public boolean enrolled() {
        return true;
    }

    @Override
    public String call(String method, String path, String json, Duration timeout) {
        calls.add(new Call(method, path, json));
        try {
            return handler.answer(method, path, json);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new io.ferry.api.itcenter.ItCenterException(io.ferry.api.itcenter.ItCenterException.Reason.UNAVAILABLE,
                    "interrupted");
        }
    }
}
