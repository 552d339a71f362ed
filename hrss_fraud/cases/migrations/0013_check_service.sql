-- 0013: the pre-settlement check service (事前提醒、事中审核, issue 21): the institutions'
-- API keys, every call a hospital's system made (who, what, verdict), the warnings each
-- call answered with, and the doctors' handling of them (the platform's 3103 feedback).
--
-- Keys are stored as the SHA-256 of their random secret (shown once, never kept); a key
-- is revoked, never deleted. Calls, warnings and feedback are logs: append-only. Times are
-- ISO-8601 UTC text (store.timestamp), so text order is time order. Money in yuan (REAL),
-- as the hospital sent it.

-- Grain: one row per API key issued to an institution.
CREATE TABLE check_key (
    key_id         TEXT PRIMARY KEY,               -- the key's public part, before the dot
    fixmedins_code TEXT NOT NULL CHECK (trim(fixmedins_code) <> ''),
    secret_sha256  TEXT NOT NULL,                  -- hex SHA-256 of the secret part
    note           TEXT NOT NULL DEFAULT '',
    created_by     TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    revoked_by     TEXT,
    revoked_at     TEXT
);

CREATE INDEX check_key_institution ON check_key (fixmedins_code);

CREATE TRIGGER check_key_only_revoked BEFORE UPDATE ON check_key
WHEN NEW.key_id IS NOT OLD.key_id OR NEW.fixmedins_code IS NOT OLD.fixmedins_code
  OR NEW.secret_sha256 IS NOT OLD.secret_sha256 OR NEW.note IS NOT OLD.note
  OR NEW.created_by IS NOT OLD.created_by OR NEW.created_at IS NOT OLD.created_at
  OR OLD.revoked_at IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'a check key is only ever revoked, once');
END;

CREATE TRIGGER check_key_no_delete BEFORE DELETE ON check_key
BEGIN
    SELECT RAISE(ABORT, 'check keys are revoked, never deleted');
END;

-- Grain: one row per request to the check service, answered or refused. A refused call
-- (401, 403, 413, 422) has what was known when it was refused: the key's institution
-- once the key was good, the message's fields once it parsed.
CREATE TABLE check_call (
    id             TEXT PRIMARY KEY,               -- the call id (hex), also output task_id
    at             TEXT NOT NULL,
    fixmedins_code TEXT,                           -- the key's institution
    key_id         TEXT,
    infno          TEXT NOT NULL,                  -- 3101, 3102, 3103, check, feedback
    trig_scen      TEXT,
    mdtrt_id       TEXT,                           -- the visits checked, comma-joined
    psn_no         TEXT,                           -- their persons (patn_id), comma-joined
    n_lines        INTEGER NOT NULL DEFAULT 0,
    verdict        TEXT CHECK (verdict IS NULL OR verdict IN ('pass', 'warn', 'block')),
    n_hits         INTEGER NOT NULL DEFAULT 0,
    rule_ids       TEXT,                           -- the rules hit, comma-joined, sorted
    ms             REAL NOT NULL,                  -- time to answer, milliseconds
    status         INTEGER NOT NULL                -- the HTTP status answered
);

CREATE INDEX check_call_at ON check_call (at);
CREATE INDEX check_call_institution ON check_call (fixmedins_code, at);

-- Grain: one row per warning answered (one hit of one rule on one visit). Its
-- warn_rslt_id is the output's jr_id, which 3103 feedback names.
CREATE TABLE check_hit (
    warn_rslt_id   TEXT PRIMARY KEY,
    call_id        TEXT NOT NULL REFERENCES check_call (id),
    rule_id        TEXT NOT NULL,
    severity       TEXT NOT NULL,
    mdtrt_id       TEXT NOT NULL,
    amount         REAL NOT NULL
);

CREATE INDEX check_hit_call ON check_hit (call_id);
CREATE INDEX check_hit_rule ON check_hit (rule_id);

-- Grain: one row per handling of one warning sent back (3103 or /feedback); a warning
-- handled twice has two rows, the later one in force.
CREATE TABLE check_feedback (
    feedback_id    INTEGER PRIMARY KEY AUTOINCREMENT,
    warn_rslt_id   TEXT NOT NULL REFERENCES check_hit (warn_rslt_id),
    call_id        TEXT NOT NULL REFERENCES check_call (id),  -- the 3103 call that sent it
    rule_id        TEXT NOT NULL,
    warn_type      TEXT,                           -- 1 事前, 2 事中, as sent
    dspo_way       TEXT NOT NULL CHECK (dspo_way IN ('1', '2')),  -- 1 continued, 2 changed
    reason         TEXT NOT NULL DEFAULT '',
    at             TEXT NOT NULL
);

CREATE INDEX check_feedback_warning ON check_feedback (warn_rslt_id);

CREATE TRIGGER check_call_no_update BEFORE UPDATE ON check_call
BEGIN
    SELECT RAISE(ABORT, 'the check-call log is append-only');
END;

CREATE TRIGGER check_call_no_delete BEFORE DELETE ON check_call
BEGIN
    SELECT RAISE(ABORT, 'the check-call log is append-only');
END;

CREATE TRIGGER check_hit_no_update BEFORE UPDATE ON check_hit
BEGIN
    SELECT RAISE(ABORT, 'the check-warning log is append-only');
END;

CREATE TRIGGER check_hit_no_delete BEFORE DELETE ON check_hit
BEGIN
    SELECT RAISE(ABORT, 'the check-warning log is append-only');
END;

CREATE TRIGGER check_feedback_no_update BEFORE UPDATE ON check_feedback
BEGIN
    SELECT RAISE(ABORT, 'check feedback is append-only');
END;

CREATE TRIGGER check_feedback_no_delete BEFORE DELETE ON check_feedback
BEGIN
    SELECT RAISE(ABORT, 'check feedback is append-only');
END;
