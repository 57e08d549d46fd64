-- Messages for someone who has not started the bot yet (a moderator granted the role before
-- opening the bot): kept by identity and moved to the outbox when their person record is made.

CREATE TABLE waiting_message (
    id         INTEGER PRIMARY KEY,
    identity   TEXT NOT NULL,                   -- "telegram:<user id>", "console:<name>"
    kind       TEXT NOT NULL DEFAULT 'text',
    ref_id     INTEGER,
    payloads   TEXT NOT NULL,                   -- JSON: {language: [reply payload, ...]}
    created_at TEXT NOT NULL
);
CREATE INDEX waiting_message_identity ON waiting_message (identity, id);
