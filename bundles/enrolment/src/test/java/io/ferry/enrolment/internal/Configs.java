package io.ferry.enrolment.internal;

import java.lang.annotation.Annotation;

/** A LinkConfig with test values. */
final class Configs {

    private Configs() {
    }

    static LinkConfig link(String url, int retries, int retryDelayMs) {
        return new LinkConfig() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return LinkConfig.class;
            }

            @Override
            public String url() {
                return url;
            }

            @Override
            public String root_certificate() {
                return "";
            }

            @Override
            public String root_sha256() {
                return "";
            }

            @Override
            public int connect_timeout_seconds() {
                return 15;
            }

            @Override
            public int retries() {
                return retries;
            }

            @Override
            public int retry_delay_ms() {
                return retryDelayMs;
            }

            @Override
            public double renew_fraction() {
                return 0.66;
            }

            @Override
            public int check_minutes() {
                return 10;
            }
        };
    }
}
