-- Audit log: a refusal repeated (same actor, action and target) is one row with a count and
-- the time of the last one, so nobody grows the table by repeating a denied command.
-- Rows older than privacy.audit_retention_days (by their last time) are purged by the bot.

ALTER TABLE audit_log ADD COLUMN times INTEGER NOT NULL DEFAULT 1;  -- how often it happened
ALTER TABLE audit_log ADD COLUMN last_at TEXT;  -- the last time, when it happened again

-- refusals already recorded: keep the first of each kind, with the count and the last time
UPDATE audit_log SET
    times = (SELECT COUNT(*) FROM audit_log d WHERE d.outcome = 'denied'
             AND d.actor = audit_log.actor AND d.action = audit_log.action
             AND d.target = audit_log.target),
    last_at = (SELECT MAX(d.at) FROM audit_log d WHERE d.outcome = 'denied'
               AND d.actor = audit_log.actor AND d.action = audit_log.action
               AND d.target = audit_log.target AND d.id <> audit_log.id)
WHERE outcome = 'denied' AND id IN (
    SELECT MIN(id) FROM audit_log WHERE outcome = 'denied' GROUP BY actor, action, target);
DELETE FROM audit_log WHERE outcome = 'denied' AND id NOT IN (
    SELECT MIN(id) FROM audit_log WHERE outcome = 'denied' GROUP BY actor, action, target);

CREATE UNIQUE INDEX audit_log_refusal ON audit_log (actor, action, target)
    WHERE outcome = 'denied';
CREATE INDEX audit_log_actor ON audit_log (actor);
