-- Hoax reports (issue 12): cases (one claim, however many people reported it), the reports
-- themselves (who is told the verdict; where it spread), notes sent on a published verdict,
-- and muted reporters. Moderators see reporters only as counts per area.

CREATE TABLE hoax_case (
    id            INTEGER PRIMARY KEY,
    claim         TEXT NOT NULL DEFAULT '',     -- the first report's text (cut)
    fingerprint   TEXT NOT NULL DEFAULT '',     -- of the normalised claim ('' for no text)
    photo_hash    TEXT NOT NULL DEFAULT '',     -- perceptual hash of its picture, if any
    thumbnail     BLOB,                         -- a small JPEG for moderators
    status        TEXT NOT NULL DEFAULT 'open', -- open | published | merged
    merged_into   INTEGER REFERENCES hoax_case (id),
    verdict       TEXT,                         -- hoaks | disinformasi | salah_konteks | benar | belum
    explanation   TEXT NOT NULL DEFAULT '',
    sources       TEXT NOT NULL DEFAULT '',     -- one URL a line
    published_at  TEXT,
    published_by  TEXT,                         -- the moderator (a pseudonym once erased)
    claimed_by    TEXT,                         -- the moderator working on it
    claimed_until TEXT,
    first_at      TEXT NOT NULL,
    last_at       TEXT NOT NULL,
    reporters     INTEGER NOT NULL DEFAULT 0,
    reopened_at   TEXT,                         -- more information came after the verdict
    example       INTEGER NOT NULL DEFAULT 0    -- from the seed library: keep or delete
);
CREATE INDEX hoax_case_queue ON hoax_case (status, reporters, last_at);
CREATE INDEX hoax_case_fingerprint ON hoax_case (fingerprint);
CREATE INDEX hoax_case_published ON hoax_case (published_at);

CREATE TABLE hoax_report (
    id         INTEGER PRIMARY KEY,
    case_id    INTEGER NOT NULL REFERENCES hoax_case (id),
    identity   TEXT,                            -- who reported (NULL once erased)
    area_code  TEXT NOT NULL DEFAULT '',        -- their RT then (the local spread)
    text       TEXT NOT NULL DEFAULT '',
    photo_hash TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    told_at    TEXT                             -- the verdict was queued to them
);
CREATE INDEX hoax_report_case ON hoax_report (case_id);
CREATE INDEX hoax_report_identity ON hoax_report (identity, created_at);

CREATE TABLE hoax_note (
    id         INTEGER PRIMARY KEY,
    case_id    INTEGER NOT NULL REFERENCES hoax_case (id),
    identity   TEXT,                            -- NULL once erased
    text       TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX hoax_note_case ON hoax_note (case_id);

CREATE TABLE hoax_mute (
    identity  TEXT PRIMARY KEY,
    until     TEXT NOT NULL,
    muted_by  TEXT NOT NULL,
    reason    TEXT NOT NULL DEFAULT '',
    muted_at  TEXT NOT NULL
);

-- A notice may be a moderators' clarification of a published verdict, sent to the RWs where
-- the claim spread (the moderators' role, not an area's coordinator, allows it).
ALTER TABLE notice ADD COLUMN purpose TEXT NOT NULL DEFAULT 'notice';  -- notice | clarification
