-- The PCR values each verdict proved (issue 9): a genuine verdict's quote signed exactly these values, so
-- the IT center may approve them for the agent's seal storage (POST /api/v1/approvals, SealApprovals).
-- "index=hex" pairs separated by commas, in increasing index order; NULL when the verdict was not genuine
-- (or was recorded before this column existed): such a verdict proves no value.
ALTER TABLE attestation ADD COLUMN pcrs VARCHAR(2000);
