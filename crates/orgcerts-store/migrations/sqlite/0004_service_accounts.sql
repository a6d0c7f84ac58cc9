-- orgcerts schema, version 3 (SQLite): the service accounts of projects and their API keys.
-- A deleted account or key keeps its row (with `deleted_at`), so that a cursor naming it still
-- pages on; nothing else reads it.

CREATE TABLE service_accounts (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT    NOT NULL UNIQUE,
    organization_id TEXT    NOT NULL REFERENCES organizations(id),
    project_id      TEXT    NOT NULL REFERENCES projects(id),
    name            TEXT    NOT NULL,
    role            TEXT    NOT NULL CHECK (role IN ('owner', 'member', 'none')),
    created_at      INTEGER NOT NULL,
    deleted_at      INTEGER
) STRICT;

-- Keyset pagination of a project's live accounts, in creation order.
CREATE INDEX service_accounts_live_by_creation
    ON service_accounts (project_id, created_at, seq) WHERE deleted_at IS NULL;

-- The key itself is never stored: only its SHA-256.
CREATE TABLE service_account_keys (
    seq                INTEGER PRIMARY KEY AUTOINCREMENT,
    id                 TEXT    NOT NULL UNIQUE,
    organization_id    TEXT    NOT NULL REFERENCES organizations(id),
    project_id         TEXT    NOT NULL REFERENCES projects(id),
    service_account_id TEXT    NOT NULL REFERENCES service_accounts(id),
    name               TEXT    NOT NULL,
    key_hash           BLOB    NOT NULL UNIQUE,
    redacted_value     TEXT    NOT NULL,
    created_at         INTEGER NOT NULL,
    last_used_at       INTEGER,
    deleted_at         INTEGER
) STRICT;

CREATE INDEX service_account_keys_live_by_creation
    ON service_account_keys (project_id, created_at, seq) WHERE deleted_at IS NULL;
CREATE INDEX service_account_keys_live_by_account
    ON service_account_keys (service_account_id) WHERE deleted_at IS NULL;
