-- H2 has no SQL triggers (only Java ones): append-only is kept by the code, which has no UPDATE
-- or DELETE statement for audit_event, revocation or agent_revocation. This version exists so
-- that both back ends have the same version history.
CREATE VIEW append_only_tables AS
    SELECT 'audit_event' AS name UNION ALL SELECT 'revocation' UNION ALL SELECT 'agent_revocation';
