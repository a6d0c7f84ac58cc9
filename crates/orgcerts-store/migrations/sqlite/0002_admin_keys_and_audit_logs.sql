-- orgcerts schema, version 2 (SQLite): admin key expiry and last use, and the audit log.

-- NULL: never expires. A key is refused from `expires_at` on (expires_at <= now).
ALTER TABLE admin_keys ADD COLUMN expires_at INTEGER;
-- Written in batches (at most every few seconds), never once per request.
ALTER TABLE admin_keys ADD COLUMN last_used_at INTEGER;

-- Keyset pagination of the API's key list, live keys only, in creation order.
CREATE INDEX admin_keys_live_by_creation
    ON admin_keys (organization_id, created_at) WHERE revoked_at IS NULL;

-- Append-only: rows are inserted in the same transaction as the change they record and never
-- updated or deleted. `seq` is the insertion order, the tie-breaker after `effective_at`.
CREATE TABLE audit_logs (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT    NOT NULL UNIQUE,
    organization_id TEXT    NOT NULL REFERENCES organizations(id),
    type            TEXT    NOT NULL,
    effective_at    INTEGER NOT NULL,
    -- NULL for the operator's command line (no API key).
    actor_key_id    TEXT,
    -- The project an event is scoped to (the top-level `project`), if any.
    project_id      TEXT,
    project_name    TEXT,
    -- The event's payload object, as JSON text (the property named after `type`).
    payload         TEXT    NOT NULL
) STRICT;

-- Newest first, keyset on (effective_at, seq).
CREATE INDEX audit_logs_by_time ON audit_logs (organization_id, effective_at, seq);
CREATE INDEX audit_logs_by_type ON audit_logs (organization_id, type, effective_at);
CREATE INDEX audit_logs_by_project ON audit_logs (organization_id, project_id, effective_at);
CREATE INDEX audit_logs_by_actor ON audit_logs (organization_id, actor_key_id, effective_at);

-- The resources an event touched (an activation names several certificates).
CREATE TABLE audit_log_resources (
    audit_seq       INTEGER NOT NULL REFERENCES audit_logs(seq),
    organization_id TEXT    NOT NULL,
    resource_id     TEXT    NOT NULL,
    PRIMARY KEY (audit_seq, resource_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX audit_log_resources_by_resource
    ON audit_log_resources (organization_id, resource_id, audit_seq);
