-- orgcerts schema, version 3 (PostgreSQL only): a change count per organization, for the
-- read cache. (SQLite's adapter learns of changes from the database file itself.)
--
-- `change_count` grows by one in the transaction of every audited change of the organization:
-- its certificates, their activation, its projects, its admin keys (not a key's
-- `last_used_at`, which no cached answer shows). An instance reads it in the statement that
-- finds the request's admin key and serves a cached list only if the list was read at the same
-- count. Under READ COMMITTED, a change acknowledged before the request began has committed its
-- increment, so that statement sees it: every list reflects every write acknowledged by any
-- instance before the request began.
--
-- Counted by a trigger on `audit_logs` rather than by the adapter's own statements: every
-- change writes its audit entry in its own transaction (the store's contract), so instances of
-- the previous release, which know nothing of the count, still advance it during a rolling
-- upgrade. The increment locks the organization's row until commit: an organization's changes
-- commit one at a time (uploads already did, for the per-organization maximum).
ALTER TABLE organizations ADD COLUMN change_count BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION organizations_count_change() RETURNS trigger
    LANGUAGE plpgsql
    -- The schema the migration ran in, whatever the writing session's search_path.
    SET search_path FROM CURRENT
AS $$
BEGIN
    UPDATE organizations SET change_count = change_count + 1 WHERE id = NEW.organization_id;
    RETURN NULL;
END
$$;

CREATE TRIGGER audit_logs_count_change
    AFTER INSERT ON audit_logs
    FOR EACH ROW EXECUTE FUNCTION organizations_count_change();
