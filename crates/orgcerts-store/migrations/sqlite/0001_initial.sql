-- orgcerts schema, version 1 (SQLite). Times are Unix seconds.
-- `seq` is the creation sequence: with `created_at` it gives lists a total order even for many
-- rows created within one second (contract.md, "Lists and pagination").

CREATE TABLE organizations (
    id                TEXT    PRIMARY KEY,
    name              TEXT    NOT NULL,
    created_at        INTEGER NOT NULL,
    -- Live (non-deleted) certificates, kept in the same transaction as inserts and deletes so
    -- that the per-organization maximum is one conditional UPDATE.
    certificate_count INTEGER NOT NULL DEFAULT 0 CHECK (certificate_count >= 0)
) STRICT;

CREATE TABLE admin_keys (
    id              TEXT    PRIMARY KEY,
    organization_id TEXT    NOT NULL REFERENCES organizations(id),
    name            TEXT    NOT NULL,
    key_hash        BLOB    NOT NULL UNIQUE,
    redacted_value  TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    revoked_at      INTEGER
) STRICT;

CREATE INDEX admin_keys_by_organization ON admin_keys (organization_id, created_at);

CREATE TABLE projects (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT    NOT NULL UNIQUE,
    organization_id TEXT    NOT NULL REFERENCES organizations(id),
    name            TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    archived_at     INTEGER,
    external_key_id TEXT,
    residency       TEXT
) STRICT;

CREATE INDEX projects_by_creation ON projects (organization_id, created_at, seq);

CREATE TABLE certificates (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT    NOT NULL UNIQUE,
    organization_id TEXT    NOT NULL REFERENCES organizations(id),
    name            TEXT,
    created_at      INTEGER NOT NULL,
    valid_at        INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    -- SHA-256 of `der`: what makes two uploads the same certificate.
    fingerprint     BLOB    NOT NULL,
    -- NULL once deleted; the row stays so that `after=<deleted id>` keeps its position.
    der             BLOB,
    -- Active at organization level (project level lives in project_certificates).
    active          INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1)),
    deleted_at      INTEGER
) STRICT;

CREATE INDEX certificates_live_by_creation
    ON certificates (organization_id, created_at, seq) WHERE deleted_at IS NULL;

-- Duplicates are judged against live certificates only: a deleted one may be uploaded again.
CREATE UNIQUE INDEX certificates_live_fingerprint
    ON certificates (organization_id, fingerprint) WHERE deleted_at IS NULL;

CREATE TABLE project_certificates (
    project_id     TEXT    NOT NULL REFERENCES projects(id),
    certificate_id TEXT    NOT NULL REFERENCES certificates(id),
    activated_at   INTEGER NOT NULL,
    PRIMARY KEY (project_id, certificate_id)
) STRICT, WITHOUT ROWID;

-- For the in-use check on delete.
CREATE INDEX project_certificates_by_certificate ON project_certificates (certificate_id);
