-- Initial schema: people, conversation state, durable inbox, roles and audit log.
-- Portable SQL (SQLite now, PostgreSQL later): ISO-8601 UTC text timestamps, no SQLite-only types.

CREATE TABLE person (
    id              INTEGER PRIMARY KEY,
    identity        TEXT NOT NULL UNIQUE,       -- "telegram:<user id>", "console:<name>", ...
    channel         TEXT NOT NULL,
    address         TEXT NOT NULL,              -- where replies go (chat id on Telegram)
    language        TEXT,
    consent_version TEXT,                       -- NULL until the person agrees
    consent_at      TEXT,
    area_code       TEXT,                       -- RT code, only with consent
    notices_regular INTEGER NOT NULL DEFAULT 1, -- 0: only urgent notices
    active          INTEGER NOT NULL DEFAULT 1, -- 0: blocked the bot
    created_at      TEXT NOT NULL,
    last_seen_at    TEXT NOT NULL
);
CREATE INDEX person_area ON person (area_code);
CREATE INDEX person_last_seen ON person (last_seen_at);

CREATE TABLE conversation (
    person_id  INTEGER PRIMARY KEY REFERENCES person (id) ON DELETE CASCADE,
    flow       TEXT,
    step       TEXT,
    data       TEXT NOT NULL DEFAULT '{}',      -- JSON of answers collected so far
    updated_at TEXT NOT NULL
);

CREATE TABLE inbox (
    id          INTEGER PRIMARY KEY,
    channel     TEXT NOT NULL,
    external_id TEXT NOT NULL,                  -- Telegram update_id, WhatsApp message id
    sender      TEXT,                           -- identity the update belongs to (ordering key)
    payload     TEXT,                           -- raw update JSON; cleared once handled
    status      TEXT NOT NULL DEFAULT 'pending', -- pending | done | failed
    received_at TEXT NOT NULL,
    done_at     TEXT,
    error       TEXT,
    UNIQUE (channel, external_id)
);
CREATE INDEX inbox_status ON inbox (status, id);

CREATE TABLE role_grant (
    id         INTEGER PRIMARY KEY,
    identity   TEXT NOT NULL,
    role       TEXT NOT NULL,                   -- coordinator | moderator | admin
    area_code  TEXT NOT NULL DEFAULT '',        -- RT or RW code for coordinators, '' otherwise
    granted_by TEXT NOT NULL,
    granted_at TEXT NOT NULL,
    UNIQUE (identity, role, area_code)
);
CREATE INDEX role_grant_identity ON role_grant (identity);

CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY,
    at      TEXT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL DEFAULT '',
    outcome TEXT NOT NULL,                      -- allowed | denied
    detail  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log (at);
