-- VM leases: the IT center as witness of which agent may run a VM. Portable between H2 2.x and PostgreSQL 12+.
-- A row is never deleted, so a VM's epoch only ever grows: an agent that held an older epoch is fenced for good.
CREATE TABLE vm_lease (
    vm          VARCHAR(128) NOT NULL PRIMARY KEY,
    holder      VARCHAR(64),
    epoch       BIGINT       NOT NULL,
    expires_at  TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at  TIMESTAMP WITH TIME ZONE NOT NULL
);
