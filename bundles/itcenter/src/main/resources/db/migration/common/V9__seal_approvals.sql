-- Seal approvals the IT center issued (io.ferry.itcenter.approvals): one row per approval, so that
-- each new approval for a device has a higher version than every earlier one. Append-only. The
-- device is an agent's id, or the name of a device not enrolled yet: its seal storage must work
-- before enrolment, which keeps the agent's key in it.
CREATE TABLE seal_approval (
    device    VARCHAR(64)   NOT NULL,
    version   BIGINT        NOT NULL,
    pcrs      VARCHAR(2000) NOT NULL,
    issued_at TIMESTAMP WITH TIME ZONE NOT NULL,
    actor     VARCHAR(200)  NOT NULL,
    PRIMARY KEY (device, version)
);
