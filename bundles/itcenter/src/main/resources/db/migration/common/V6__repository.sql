-- The features repository (io.ferry.itcenter.repository). Portable between H2 2.x and PostgreSQL 12+.
-- repository_artifact: every file the repository serves, with the SHA-256 of its bytes, checked on every read,
-- so a file put into the folder by hand, or changed there, is never served.
-- repository_release: the feature versions published, for itcenter:releases and GET /api/v1/releases.
-- The reference values of the published bundles go into reference_value (V1), release_name = feature/version.

CREATE TABLE repository_artifact (
    path         VARCHAR(1000) NOT NULL PRIMARY KEY,
    group_id     VARCHAR(200)  NOT NULL,
    artifact_id  VARCHAR(200)  NOT NULL,
    version      VARCHAR(100)  NOT NULL,
    sha256       CHAR(64)      NOT NULL,
    byte_count   BIGINT        NOT NULL,
    published_at TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX repository_artifact_ga ON repository_artifact (group_id, artifact_id, published_at);

CREATE TABLE repository_release (
    feature      VARCHAR(200)  NOT NULL,
    version      VARCHAR(100)  NOT NULL,
    repository   VARCHAR(1000) NOT NULL,
    published_at TIMESTAMP WITH TIME ZONE NOT NULL,
    actor        VARCHAR(200)  NOT NULL,
    PRIMARY KEY (feature, version)
);
