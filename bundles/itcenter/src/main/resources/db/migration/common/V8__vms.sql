-- VM images published by the IT center, each with its migration policy signed by the IT center's
-- policy key (issue 6). Portable between H2 2.x and PostgreSQL 12+.
-- vm_image: one row a VM, its current image and newest policy version.
-- vm_policy: every policy ever published, append-only (the code has INSERT and SELECT only).

CREATE TABLE vm_image (
    uuid           CHAR(36)     NOT NULL PRIMARY KEY,
    name           VARCHAR(128) NOT NULL UNIQUE,
    image_digest   CHAR(71)     NOT NULL,
    owner          VARCHAR(128) NOT NULL,
    policy_version BIGINT       NOT NULL
);

CREATE TABLE vm_policy (
    uuid         CHAR(36)       NOT NULL REFERENCES vm_image (uuid),
    version      BIGINT         NOT NULL,
    key_id       VARCHAR(64)    NOT NULL,
    jws          VARCHAR(1500000) NOT NULL,
    published_at TIMESTAMP WITH TIME ZONE NOT NULL,
    published_by VARCHAR(200)   NOT NULL,
    PRIMARY KEY (uuid, version)
);
