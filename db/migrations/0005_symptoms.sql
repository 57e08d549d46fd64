-- Symptom self-reports (issue 10). Health data is specific personal data (UU No. 27/2022):
-- a report is kept with its reporter only under a recorded consent; otherwise, and once the
-- consent is withdrawn, the retention ends or the reporter erases their data, only a count
-- per RT, day and risk level remains (symptom_count).

CREATE TABLE health_consent (
    id           INTEGER PRIMARY KEY,
    identity     TEXT NOT NULL,          -- who agreed (a pseudonym once they erased their data)
    version      TEXT NOT NULL,          -- the consent text's version
    text         TEXT NOT NULL,          -- the text shown, as shown
    lang         TEXT NOT NULL,
    channel      TEXT NOT NULL,
    given_at     TEXT NOT NULL,
    withdrawn_at TEXT
);
CREATE INDEX health_consent_identity ON health_consent (identity);

CREATE TABLE symptom_report (
    id            INTEGER PRIMARY KEY,
    identity      TEXT NOT NULL,         -- the resident who reported (the contact)
    consent_id    INTEGER NOT NULL REFERENCES health_consent (id),
    area_code     TEXT NOT NULL,         -- the resident's RT
    day           TEXT NOT NULL,         -- local date of the report, YYYY-MM-DD
    subject       TEXT NOT NULL,         -- self | household
    age_group     TEXT NOT NULL DEFAULT '',
    red_flags     TEXT NOT NULL DEFAULT '',  -- comma-separated keys (bot/symptoms/model.py)
    symptoms      TEXT NOT NULL DEFAULT '',
    close_contact TEXT NOT NULL DEFAULT '',
    conditions    TEXT NOT NULL DEFAULT '',
    pregnant      INTEGER,               -- NULL: not asked
    level         TEXT NOT NULL,         -- low | moderate | high
    rules_version TEXT NOT NULL DEFAULT '',
    status        TEXT NOT NULL DEFAULT 'new',  -- new | handling | done
    handler       TEXT,                  -- who pressed "I'll handle it"
    note          TEXT NOT NULL DEFAULT '',
    created_at    TEXT NOT NULL,
    handled_at    TEXT,
    fast          INTEGER NOT NULL DEFAULT 0,  -- taken within an hour of the report
    closed_at     TEXT,
    escalation    INTEGER NOT NULL DEFAULT 0,  -- 0 alerted RT+RW, 1 RW reminded, 2 admins
    escalate_at   TEXT,                  -- next escalation while nobody handles it
    well_at       TEXT,                  -- the resident said they are well
    worsened_at   TEXT                   -- a check-in said "worse"
);
CREATE INDEX symptom_report_area ON symptom_report (area_code, created_at);
CREATE INDEX symptom_report_identity ON symptom_report (identity);
CREATE INDEX symptom_report_escalate ON symptom_report (escalate_at);

CREATE TABLE symptom_count (
    day          TEXT NOT NULL,          -- local date, YYYY-MM-DD
    area_code    TEXT NOT NULL,          -- RT
    level        TEXT NOT NULL,
    reports      INTEGER NOT NULL DEFAULT 0,
    urgent       INTEGER NOT NULL DEFAULT 0,  -- of which with a red flag
    handled_fast INTEGER NOT NULL DEFAULT 0,  -- of which taken within an hour
    PRIMARY KEY (day, area_code, level)
);

CREATE TABLE symptom_checkin (
    id          INTEGER PRIMARY KEY,
    report_id   INTEGER NOT NULL REFERENCES symptom_report (id) ON DELETE CASCADE,
    due_at      TEXT NOT NULL,
    sent_at     TEXT,
    answer      TEXT,                    -- better | same | worse
    answered_at TEXT
);
CREATE INDEX symptom_checkin_due ON symptom_checkin (due_at);
CREATE INDEX symptom_checkin_report ON symptom_checkin (report_id);
