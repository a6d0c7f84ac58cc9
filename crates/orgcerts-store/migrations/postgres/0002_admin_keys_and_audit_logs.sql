-- orgcerts schema, version 2 (PostgreSQL): admin key expiry and last use, and the audit log.
-- The same logical schema as migrations/sqlite. Adds columns and tables only, so instances of
-- the previous release keep working while they still serve.

-- NULL: never expires. A key is refused from `expires_at` on (expires_at <= now).
ALTER TABLE admin_keys ADD COLUMN expires_at BIGINT;
-- Written in batches (at most every few seconds), never once per request.
ALTER TABLE admin_keys ADD COLUMN last_used_at BIGINT;

-- Keyset pagination of the API's key list, live keys only, in creation order.
CREATE INDEX admin_keys_live_by_creation
    ON admin_keys (organization_id, created_at, seq) WHERE revoked_at IS NULL;

-- Append-only: rows are inserted in the same transaction as the change they record and never
-- updated or deleted. `seq` is unique but, across concurrent transactions, not commit order;
-- with `effective_at` it gives the list a total order.
CREATE TABLE audit_logs (
    seq             BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              TEXT    NOT NULL UNIQUE,
    organization_id TEXT    NOT NULL REFERENCES organizations(id),
    type            TEXT    NOT NULL,
    effective_at    BIGINT  NOT NULL,
    -- NULL for the operator's command line (no API key).
    actor_key_id    TEXT,
    -- The project an event is scoped to (the top-level `project`), if any.
    project_id      TEXT,
    project_name    TEXT,
    -- The event's payload object, as JSON text (the property named after `type`).
    payload         TEXT    NOT NULL
);

-- Newest first, keyset on (effective_at, seq).
CREATE INDEX audit_logs_by_time ON audit_logs (organization_id, effective_at, seq);
CREATE INDEX audit_logs_by_type ON audit_logs (organization_id, type, effective_at);
CREATE INDEX audit_logs_by_project ON audit_logs (organization_id, project_id, effective_at);
CREATE INDEX audit_logs_by_actor ON audit_logs (organization_id, actor_key_id, effective_at);

-- The resources an event touched (an activation names several certificates).
CREATE TABLE audit_log_resources (
    audit_seq       BIGINT NOT NULL REFERENCES audit_logs(seq),
    organization_id TEXT   NOT NULL,
    resource_id     TEXT   NOT NULL,
    PRIMARY KEY (audit_seq, resource_id)
);

CREATE INDEX audit_log_resources_by_resource
    ON audit_log_resources (organization_id, resource_id, audit_seq);
