-- PostgreSQL: the append-only tables refuse UPDATE, DELETE and TRUNCATE, whoever connects.
CREATE FUNCTION ferry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ferry: % is append-only (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event
    FOR EACH ROW EXECUTE FUNCTION ferry_append_only();
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
    FOR EACH STATEMENT EXECUTE FUNCTION ferry_append_only();
CREATE TRIGGER revocation_append_only BEFORE UPDATE OR DELETE ON revocation
    FOR EACH ROW EXECUTE FUNCTION ferry_append_only();
CREATE TRIGGER revocation_no_truncate BEFORE TRUNCATE ON revocation
    FOR EACH STATEMENT EXECUTE FUNCTION ferry_append_only();
CREATE TRIGGER agent_revocation_append_only BEFORE UPDATE OR DELETE ON agent_revocation
    FOR EACH ROW EXECUTE FUNCTION ferry_append_only();
CREATE TRIGGER agent_revocation_no_truncate BEFORE TRUNCATE ON agent_revocation
    FOR EACH STATEMENT EXECUTE FUNCTION ferry_append_only();
