-- orgcerts schema, version 3 (SQLite): live certificates by expiry, so that the expiry gauges
-- of /metrics count index ranges instead of reading every certificate row on each scrape.
CREATE INDEX certificates_live_by_expiry
    ON certificates (expires_at) WHERE deleted_at IS NULL;
