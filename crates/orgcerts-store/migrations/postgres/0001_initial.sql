-- orgcerts schema, version 1 (PostgreSQL). The same logical schema as migrations/sqlite.
-- Times are Unix seconds. `seq` is the creation sequence: with `created_at` it gives lists a
-- total order even for many rows created within one second (contract.md, "Lists and
-- pagination"). Identity values are unique but not gap-free; certificate inserts of one
-- organization hold that organization's row lock, so within an organization `seq` also
-- follows commit order.

CREATE TABLE organizations (
    seq               BIGINT  GENERATED ALWAYS AS IDENTITY UNIQUE,
    id                TEXT    PRIMARY KEY,
    name              TEXT    NOT NULL,
    created_at        BIGINT  NOT NULL,
    -- Live (non-deleted) certificates, kept in the same transaction as inserts and deletes so
    -- that the per-organization maximum is one conditional UPDATE on a locked row.
    certificate_count INTEGER NOT NULL DEFAULT 0 CHECK (certificate_count >= 0)
);

CREATE TABLE admin_keys (
    seq             BIGINT  GENERATED ALWAYS AS IDENTITY UNIQUE,
    id              TEXT    PRIMARY KEY,
    organization_id TEXT    NOT NULL REFERENCES organizations(id),
    name            TEXT    NOT NULL,
    key_hash        BYTEA   NOT NULL UNIQUE,
    redacted_value  TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    revoked_at      BIGINT
);

CREATE INDEX admin_keys_by_organization ON admin_keys (organization_id, created_at, seq);

CREATE TABLE projects (
    seq             BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              TEXT    NOT NULL UNIQUE,
    organization_id TEXT    NOT NULL REFERENCES organizations(id),
    name            TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    archived_at     BIGINT,
    external_key_id TEXT,
    residency       TEXT
);

CREATE INDEX projects_by_creation ON projects (organization_id, created_at, seq);

CREATE TABLE certificates (
    seq             BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              TEXT    NOT NULL UNIQUE,
    organization_id TEXT    NOT NULL REFERENCES organizations(id),
    name            TEXT,
    created_at      BIGINT  NOT NULL,
    valid_at        BIGINT  NOT NULL,
    expires_at      BIGINT  NOT NULL,
    -- SHA-256 of `der`: what makes two uploads the same certificate.
    fingerprint     BYTEA   NOT NULL,
    -- NULL once deleted; the row stays so that `after=<deleted id>` keeps its position.
    der             BYTEA,
    -- Active at organization level (project level lives in project_certificates).
    active          BOOLEAN NOT NULL DEFAULT FALSE,
    deleted_at      BIGINT
);

CREATE INDEX certificates_live_by_creation
    ON certificates (organization_id, created_at, seq) WHERE deleted_at IS NULL;

-- Duplicates are judged against live certificates only: a deleted one may be uploaded again.
-- The adapter maps a violation of this index (by name) to CertificateAlreadyExists.
CREATE UNIQUE INDEX certificates_live_fingerprint
    ON certificates (organization_id, fingerprint) WHERE deleted_at IS NULL;

CREATE TABLE project_certificates (
    project_id     TEXT   NOT NULL REFERENCES projects(id),
    certificate_id TEXT   NOT NULL REFERENCES certificates(id),
    activated_at   BIGINT NOT NULL,
    PRIMARY KEY (project_id, certificate_id)
);

-- For the in-use check on delete.
CREATE INDEX project_certificates_by_certificate ON project_certificates (certificate_id);
