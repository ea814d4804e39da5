-- Attested enrolment (io.ferry.itcenter.enrolment). Portable between H2 2.x and PostgreSQL 12+.
-- agent.ek_certificate holds the EK certificate (base64 DER), agent.ak_public the AK's SubjectPublicKeyInfo
-- (base64 DER); ak_name is the AK's TPM name (hex: nameAlg || digest of its TPMT_PUBLIC), which its quotes
-- carry as their signer.

ALTER TABLE agent ADD COLUMN ak_name VARCHAR(200);

-- An invitation authorises one enrolment of one named device; only the token's SHA-256 is kept.
CREATE TABLE enrolment_invitation (
    token_sha256 CHAR(64)     NOT NULL PRIMARY KEY,
    name         VARCHAR(64)  NOT NULL,
    owner        VARCHAR(128) NOT NULL,
    device_group VARCHAR(128) NOT NULL,
    created_at   TIMESTAMP WITH TIME ZONE NOT NULL,
    expires_at   TIMESTAMP WITH TIME ZONE NOT NULL,
    created_by   VARCHAR(200) NOT NULL,
    used_at      TIMESTAMP WITH TIME ZONE,
    agent_id     VARCHAR(64)
);
CREATE INDEX enrolment_invitation_name ON enrolment_invitation (name);

-- A MakeCredential challenge: single use (used_at set by the first answer, right or wrong), short expiry.
CREATE TABLE enrolment_challenge (
    id             VARCHAR(64)   NOT NULL PRIMARY KEY,
    token_sha256   CHAR(64)      NOT NULL REFERENCES enrolment_invitation (token_sha256),
    secret_sha256  CHAR(64)      NOT NULL,
    ek_certificate VARCHAR(8000) NOT NULL,
    ak_public_area VARCHAR(2000) NOT NULL,
    device_group   VARCHAR(128)  NOT NULL,
    created_at     TIMESTAMP WITH TIME ZONE NOT NULL,
    expires_at     TIMESTAMP WITH TIME ZONE NOT NULL,
    used_at        TIMESTAMP WITH TIME ZONE
);
