-- Volunteers (issue 11): what a volunteer signed up with (the coordinators of their area see
-- name, skills and availability; the phone only with the volunteer's own task or help
-- request), call-outs and their answers, and help requests from isolating households.

ALTER TABLE volunteer ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE volunteer ADD COLUMN phone TEXT NOT NULL DEFAULT '';         -- E.164, '' none
ALTER TABLE volunteer ADD COLUMN skills TEXT NOT NULL DEFAULT '';        -- comma-separated
ALTER TABLE volunteer ADD COLUMN availability TEXT NOT NULL DEFAULT '';  -- comma-separated
ALTER TABLE volunteer ADD COLUMN area_code TEXT NOT NULL DEFAULT '';     -- RT or RW
ALTER TABLE volunteer ADD COLUMN consent_version TEXT NOT NULL DEFAULT '';
ALTER TABLE volunteer ADD COLUMN paused_until TEXT;                      -- local date, or NULL
ALTER TABLE volunteer ADD COLUMN updated_at TEXT;
CREATE INDEX volunteer_area ON volunteer (area_code);

CREATE TABLE callout (
    id          INTEGER PRIMARY KEY,
    author      TEXT NOT NULL,               -- identity (a pseudonym once erased)
    area_code   TEXT NOT NULL,               -- the RT or RW whose volunteers are asked
    title       TEXT NOT NULL,
    starts_at   TEXT NOT NULL,
    place       TEXT NOT NULL,
    skills      TEXT NOT NULL DEFAULT '',    -- '' = any skill
    needed      INTEGER NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    urgent      INTEGER NOT NULL DEFAULT 0,
    status      TEXT NOT NULL DEFAULT 'open',  -- open | full | cancelled
    created_at  TEXT NOT NULL,
    remind_at   TEXT,                        -- when the accepted are reminded (NULL: done)
    reminded_at TEXT
);
CREATE INDEX callout_author ON callout (author, created_at);
CREATE INDEX callout_remind ON callout (remind_at);

CREATE TABLE callout_answer (
    callout_id  INTEGER NOT NULL REFERENCES callout (id) ON DELETE CASCADE,
    person_id   INTEGER NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    status      TEXT NOT NULL DEFAULT 'asked',  -- asked | accepted | declined | withdrawn
    answered_at TEXT,
    PRIMARY KEY (callout_id, person_id)
);

CREATE TABLE help_request (
    id            INTEGER PRIMARY KEY,
    identity      TEXT NOT NULL,             -- the household's contact person
    area_code     TEXT NOT NULL,             -- their RT
    kind          TEXT NOT NULL,             -- groceries | medicine | transport | other
    note          TEXT NOT NULL DEFAULT '',
    share_contact INTEGER NOT NULL DEFAULT 0,  -- the assigned volunteer sees the contact
    report_id     INTEGER,                   -- the symptom report it follows, if any
    status        TEXT NOT NULL DEFAULT 'new',  -- new | assigned | done | cancelled
    volunteer_id  INTEGER REFERENCES person (id) ON DELETE SET NULL,
    assigned_by   TEXT,
    created_at    TEXT NOT NULL,
    assigned_at   TEXT,
    done_at       TEXT
);
CREATE INDEX help_request_area ON help_request (area_code, status);
CREATE INDEX help_request_identity ON help_request (identity);
