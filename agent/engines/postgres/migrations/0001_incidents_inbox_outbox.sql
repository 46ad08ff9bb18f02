-- Incidents: one JSONB document each (alerts, isolation, severity, routing, drafts,
-- approvals, dispatches, timeline) and the keys dedup and correlation find it by.
CREATE TABLE incidents (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    opened_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    document JSONB NOT NULL
);
CREATE INDEX incidents_status ON incidents (status, updated_at DESC);
CREATE INDEX incidents_updated ON incidents (updated_at DESC);
CREATE TABLE incident_keys (
    key TEXT NOT NULL,
    incident_id TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    PRIMARY KEY (key, incident_id)
);
CREATE INDEX incident_keys_incident ON incident_keys (incident_id);
CREATE TABLE incident_counters (day TEXT PRIMARY KEY, n INTEGER NOT NULL);

-- The alert inbox: a row per accepted request; one key per alert so a redelivery is
-- found; `published` once the row is on the alert stream.
CREATE TABLE inbox (
    id BIGSERIAL PRIMARY KEY,
    source TEXT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    body_sha256 TEXT NOT NULL,
    alerts JSONB NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    incident_id TEXT,
    correlated TEXT,
    error TEXT,
    updated_at TIMESTAMPTZ NOT NULL,
    published BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX inbox_state ON inbox (state, id);
CREATE INDEX inbox_unpublished ON inbox (id) WHERE state = 'queued' AND NOT published;
CREATE TABLE inbox_keys (
    key TEXT PRIMARY KEY,
    inbox_id BIGINT NOT NULL REFERENCES inbox (id)
);

-- The outbox: messages for people or tools to publish, and the ledger of every send,
-- keyed by incident/draft/revision.
CREATE TABLE outbox (
    key TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL,
    draft_id TEXT NOT NULL,
    revision INTEGER NOT NULL,
    channel TEXT NOT NULL,
    record JSONB NOT NULL,
    added_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX outbox_incident ON outbox (incident_id);
CREATE TABLE sends (
    key TEXT PRIMARY KEY,
    sent BOOLEAN NOT NULL DEFAULT FALSE,
    result JSONB,
    reserved_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    settled_at TIMESTAMPTZ
);
