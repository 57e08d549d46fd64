-- Broadcasts: notices from coordinators, their audience, runs, the outgoing-message queue
-- (outbox), volunteers (for the "volunteers only" segment) and linked RT groups.
-- Portable SQL: the outbox is claimed with UPDATE ... WHERE id IN (SELECT ... LIMIT n), which
-- PostgreSQL runs as is (add FOR UPDATE SKIP LOCKED there for several workers).

ALTER TABLE role_grant ADD COLUMN display_name TEXT NOT NULL DEFAULT '';  -- signs notices

CREATE TABLE notice (
    id            INTEGER PRIMARY KEY,
    author        TEXT NOT NULL,                 -- identity of the coordinator
    author_lang   TEXT NOT NULL,
    signature     TEXT NOT NULL,                 -- "Ketua RT 03 / RW 02 — Pak Ahmad"
    segment       TEXT NOT NULL,                 -- all | volunteers
    category      TEXT NOT NULL,                 -- regular | urgent
    body          TEXT NOT NULL,
    media_kind    TEXT,                          -- photo | document
    media_ref     TEXT,                          -- the channel's file id
    media_name    TEXT,
    repeat        TEXT NOT NULL,                 -- now | once | daily | weekly | monthly
    at_time       TEXT,                          -- HH:MM local time for recurring notices
    weekdays      TEXT,                          -- "mon,thu" for weekly
    month_day     INTEGER,                       -- 1-28 for monthly
    start_at      TEXT,                          -- UTC instant of a one-off notice
    end_date      TEXT,                          -- last local day of a recurring notice
    status        TEXT NOT NULL,                 -- pending | active | paused | done | rejected
                                                 -- | cancelled | missed
    next_run_at   TEXT,                          -- UTC; NULL once nothing more is due
    needs_review  INTEGER NOT NULL DEFAULT 0,    -- sent without approval, to be reviewed
    decided_by    TEXT,
    decided_at    TEXT,
    reason        TEXT,                          -- why it was rejected
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX notice_author ON notice (author, status);
CREATE INDEX notice_due ON notice (status, next_run_at);

CREATE TABLE notice_area (
    notice_id  INTEGER NOT NULL REFERENCES notice (id) ON DELETE CASCADE,
    area_code  TEXT NOT NULL,                    -- an RT, RW or kelurahan code
    PRIMARY KEY (notice_id, area_code)
);
CREATE INDEX notice_area_code ON notice_area (area_code, notice_id);

CREATE TABLE notice_run (
    id               INTEGER PRIMARY KEY,
    notice_id        INTEGER NOT NULL REFERENCES notice (id) ON DELETE CASCADE,
    planned_at       TEXT NOT NULL,
    started_at       TEXT NOT NULL,
    finished_at      TEXT,
    total            INTEGER NOT NULL DEFAULT 0,  -- the author's progress message is an
                                                 -- outbox row (kind 'progress', ref_id)
    reported         INTEGER NOT NULL DEFAULT 0, -- 0 not yet, 1 all but deferred, 2 final
    delivered        INTEGER NOT NULL DEFAULT 0, -- final counts, kept after the outbox purge
    failed           INTEGER NOT NULL DEFAULT 0,
    blocked          INTEGER NOT NULL DEFAULT 0,
    skipped          INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX notice_run_notice ON notice_run (notice_id);

CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY,
    channel     TEXT NOT NULL,
    address     TEXT NOT NULL,
    person_id   INTEGER,                         -- NULL for a group
    lang        TEXT NOT NULL,
    kind        TEXT NOT NULL,                   -- notice | text | progress
    ref_id      INTEGER,                         -- notice_run id for notice rows
    payload     TEXT,                            -- JSON message for text rows
    priority    INTEGER NOT NULL DEFAULT 2,      -- 0 system, 1 urgent, 2 regular
    quiet       INTEGER NOT NULL DEFAULT 0,      -- 1: waits out quiet hours
    status      TEXT NOT NULL DEFAULT 'queued',  -- queued | sending | sent | failed | blocked
                                                 -- | skipped | cancelled
    reason      TEXT,
    deferred    INTEGER NOT NULL DEFAULT 0,      -- held back by quiet hours
    not_before  TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    claimed_by  TEXT,
    claimed_at  TEXT,
    sent_at     TEXT,
    external_id TEXT,                            -- message id the channel gave
    created_at  TEXT NOT NULL
);
CREATE INDEX outbox_due ON outbox (channel, status, priority, id);
CREATE INDEX outbox_ref ON outbox (ref_id, status);
CREATE INDEX outbox_person ON outbox (person_id);

CREATE TABLE volunteer (
    person_id  INTEGER PRIMARY KEY REFERENCES person (id) ON DELETE CASCADE,
    since_at   TEXT NOT NULL
);

CREATE TABLE group_link (
    area_code  TEXT PRIMARY KEY,                 -- RT code
    channel    TEXT NOT NULL,
    address    TEXT NOT NULL,                    -- group chat id
    title      TEXT NOT NULL DEFAULT '',
    linked_by  TEXT NOT NULL,
    linked_at  TEXT NOT NULL
);
