-- 0007: server-side dashboard sessions, and a hash chain over the append-only records.
--
-- Sessions: the dashboard's cookie holds only a random token; the row here (keyed by the
-- token's SHA-256, so a copy of the database does not hand out live sessions) says whose
-- it is and whether it still holds. Logging out, a password change, disabling an account
-- and a role change revoke every open session of the user (revoked_at, revoked_reason).
--
-- Chain: every row appended to review_decision, audit_log, notice_event and
-- notice_review_decision, and every notice as issued, is copied to chain_link with the
-- hash of the link before it: hash = sha256(prev_hash, table, row id, row as JSON).
-- `hrss-fraud cases verify` recomputes the chain and compares each record with its link,
-- so an edited, replaced, deleted or smuggled-in row shows. The hash is the function
-- hrss_chain_hash that the project's connection registers (cases/chain.py); a tool that
-- opens the file without it cannot append to these tables at all.
--
-- Append-only tables also refuse `INSERT OR REPLACE` (a REPLACE deletes the old row
-- without firing delete triggers unless recursive_triggers is on): a BEFORE INSERT
-- trigger refuses a row whose key already exists.

CREATE TABLE user_session (
    token_sha256   TEXT PRIMARY KEY CHECK (length(token_sha256) = 64),
    username       TEXT NOT NULL COLLATE NOCASE REFERENCES users (username),
    created_at     TEXT NOT NULL,  -- ISO-8601 UTC
    last_seen_at   TEXT NOT NULL,
    revoked_at     TEXT,
    revoked_reason TEXT,           -- logout, password, disable, role, idle, expired
    remote_addr    TEXT,
    user_agent     TEXT
);

CREATE INDEX user_session_user ON user_session (username, revoked_at);

CREATE TRIGGER user_session_no_delete BEFORE DELETE ON user_session
BEGIN
    SELECT RAISE(ABORT, 'sessions are revoked, never deleted');
END;

CREATE TRIGGER user_session_revoked_is_final BEFORE UPDATE ON user_session
WHEN OLD.revoked_at IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'a revoked session stays revoked');
END;

CREATE TABLE chain_link (
    link_id    INTEGER PRIMARY KEY AUTOINCREMENT,
    table_name TEXT NOT NULL,
    row_id     TEXT NOT NULL,
    row_json   TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,  -- '' for the first link
    hash       TEXT NOT NULL CHECK (length(hash) = 64),
    UNIQUE (table_name, row_id)
);

CREATE TRIGGER chain_link_no_update BEFORE UPDATE ON chain_link
BEGIN
    SELECT RAISE(ABORT, 'the chain is append-only');
END;

CREATE TRIGGER chain_link_no_delete BEFORE DELETE ON chain_link
BEGIN
    SELECT RAISE(ABORT, 'the chain is append-only');
END;

CREATE TRIGGER chain_link_no_replace BEFORE INSERT ON chain_link
WHEN EXISTS (SELECT 1 FROM chain_link WHERE link_id = NEW.link_id)
  OR EXISTS (SELECT 1 FROM chain_link WHERE table_name = NEW.table_name AND row_id = NEW.row_id)
BEGIN
    SELECT RAISE(ABORT, 'the chain is append-only');
END;

-- Each record as its link holds it: the same json_object over the same columns is what
-- `cases verify` recomputes (cases/chain.py keeps the column lists; a test compares).

CREATE TRIGGER review_decision_chain AFTER INSERT ON review_decision
BEGIN
    INSERT INTO chain_link (table_name, row_id, row_json, prev_hash, hash)
    SELECT 'review_decision', r, j, p, hrss_chain_hash(p, 'review_decision', r, j)
    FROM (SELECT CAST(NEW.decision_id AS TEXT) AS r,
        json_object('decision_id', NEW.decision_id, 'finding_id', NEW.finding_id,
        'step', NEW.step, 'decision', NEW.decision, 'reason', NEW.reason,
        'decided_by', NEW.decided_by, 'decided_at', NEW.decided_at,
        'batch_id', NEW.batch_id, 'rule_id', NEW.rule_id,
        'fixmedins_code', NEW.fixmedins_code, 'entity_type', NEW.entity_type,
        'amount_at_risk', NEW.amount_at_risk, 'run_id', NEW.run_id) AS j,
        coalesce((SELECT hash FROM chain_link ORDER BY link_id DESC LIMIT 1), '') AS p);
END;

CREATE TRIGGER audit_log_chain AFTER INSERT ON audit_log
BEGIN
    INSERT INTO chain_link (table_name, row_id, row_json, prev_hash, hash)
    SELECT 'audit_log', r, j, p, hrss_chain_hash(p, 'audit_log', r, j)
    FROM (SELECT CAST(NEW.audit_id AS TEXT) AS r,
        json_object('audit_id', NEW.audit_id, 'at', NEW.at, 'actor', NEW.actor,
        'action', NEW.action, 'object_type', NEW.object_type,
        'object_id', NEW.object_id, 'detail', NEW.detail) AS j,
        coalesce((SELECT hash FROM chain_link ORDER BY link_id DESC LIMIT 1), '') AS p);
END;

CREATE TRIGGER notice_event_chain AFTER INSERT ON notice_event
BEGIN
    INSERT INTO chain_link (table_name, row_id, row_json, prev_hash, hash)
    SELECT 'notice_event', r, j, p, hrss_chain_hash(p, 'notice_event', r, j)
    FROM (SELECT CAST(NEW.event_id AS TEXT) AS r,
        json_object('event_id', NEW.event_id, 'notice_id', NEW.notice_id, 'kind', NEW.kind,
        'on_date', NEW.on_date, 'at', NEW.at, 'actor', NEW.actor,
        'person', NEW.person, 'text', NEW.text, 'late', NEW.late) AS j,
        coalesce((SELECT hash FROM chain_link ORDER BY link_id DESC LIMIT 1), '') AS p);
END;

CREATE TRIGGER notice_review_decision_chain AFTER INSERT ON notice_review_decision
BEGIN
    INSERT INTO chain_link (table_name, row_id, row_json, prev_hash, hash)
    SELECT 'notice_review_decision', r, j, p, hrss_chain_hash(p, 'notice_review_decision', r, j)
    FROM (SELECT CAST(NEW.request_event_id AS TEXT) AS r,
        json_object('request_event_id', NEW.request_event_id, 'notice_id', NEW.notice_id,
        'outcome', NEW.outcome, 'on_date', NEW.on_date, 'at', NEW.at,
        'actor', NEW.actor, 'text', NEW.text, 'late', NEW.late) AS j,
        coalesce((SELECT hash FROM chain_link ORDER BY link_id DESC LIMIT 1), '') AS p);
END;

CREATE TRIGGER notice_chain AFTER UPDATE OF status ON notice
WHEN OLD.status = 'draft' AND NEW.status <> 'draft'
BEGIN
    INSERT INTO chain_link (table_name, row_id, row_json, prev_hash, hash)
    SELECT 'notice', r, j, p, hrss_chain_hash(p, 'notice', r, j)
    FROM (SELECT CAST(NEW.notice_id AS TEXT) AS r,
        json_object('notice_id', NEW.notice_id, 'number', NEW.number,
        'fixmedins_code', NEW.fixmedins_code, 'onsite_facts', NEW.onsite_facts,
        'issue_date', NEW.issue_date, 'statement_due', NEW.statement_due,
        'rectify_due', NEW.rectify_due, 'content_json', NEW.content_json,
        'content_sha256', NEW.content_sha256, 'docx_sha256', NEW.docx_sha256,
        'pdf_sha256', NEW.pdf_sha256) AS j,
        coalesce((SELECT hash FROM chain_link ORDER BY link_id DESC LIMIT 1), '') AS p);
END;

-- Rows written before this migration join the chain now, table by table in key order.
CREATE TEMP TABLE chain_seed (
    n          INTEGER PRIMARY KEY,
    table_name TEXT NOT NULL,
    row_id     TEXT NOT NULL,
    row_json   TEXT NOT NULL
);

INSERT INTO chain_seed (n, table_name, row_id, row_json)
SELECT row_number() OVER (ORDER BY tbl, id), table_name, row_id, row_json
FROM (
SELECT 'review_decision' AS table_name, CAST(decision_id AS TEXT) AS row_id,
       json_object('decision_id', decision_id, 'finding_id', finding_id, 'step', step,
           'decision', decision, 'reason', reason, 'decided_by', decided_by,
           'decided_at', decided_at, 'batch_id', batch_id, 'rule_id', rule_id,
           'fixmedins_code', fixmedins_code, 'entity_type', entity_type,
           'amount_at_risk', amount_at_risk, 'run_id', run_id) AS row_json,
       decided_at AS at, 1 AS tbl, decision_id AS id
FROM review_decision
UNION ALL
SELECT 'audit_log', CAST(audit_id AS TEXT),
       json_object('audit_id', audit_id, 'at', at, 'actor', actor, 'action', action,
           'object_type', object_type, 'object_id', object_id, 'detail', detail),
       at, 2, audit_id
FROM audit_log
UNION ALL
SELECT 'notice_event', CAST(event_id AS TEXT),
       json_object('event_id', event_id, 'notice_id', notice_id, 'kind', kind,
           'on_date', on_date, 'at', at, 'actor', actor, 'person', person, 'text', text,
           'late', late),
       at, 3, event_id
FROM notice_event
UNION ALL
SELECT 'notice_review_decision', CAST(request_event_id AS TEXT),
       json_object('request_event_id', request_event_id, 'notice_id', notice_id,
           'outcome', outcome, 'on_date', on_date, 'at', at, 'actor', actor, 'text', text,
           'late', late),
       at, 4, request_event_id
FROM notice_review_decision
UNION ALL
SELECT 'notice', CAST(notice_id AS TEXT),
       json_object('notice_id', notice_id, 'number', number,
           'fixmedins_code', fixmedins_code, 'onsite_facts', onsite_facts,
           'issue_date', issue_date, 'statement_due', statement_due,
           'rectify_due', rectify_due, 'content_json', content_json,
           'content_sha256', content_sha256, 'docx_sha256', docx_sha256,
           'pdf_sha256', pdf_sha256),
       coalesce(created_at, ''), 5, notice_id
FROM notice WHERE status <> 'draft'
);

INSERT INTO chain_link (table_name, row_id, row_json, prev_hash, hash)
WITH RECURSIVE linked (n, table_name, row_id, row_json, prev_hash, hash) AS (
    SELECT n, table_name, row_id, row_json, '',
           hrss_chain_hash('', table_name, row_id, row_json)
    FROM chain_seed WHERE n = 1
    UNION ALL
    SELECT s.n, s.table_name, s.row_id, s.row_json, l.hash,
           hrss_chain_hash(l.hash, s.table_name, s.row_id, s.row_json)
    FROM linked l JOIN chain_seed s ON s.n = l.n + 1
)
SELECT table_name, row_id, row_json, prev_hash, hash FROM linked ORDER BY n;

DROP TABLE chain_seed;

-- INSERT OR REPLACE on a table whose rows are never deleted: refused before SQLite would
-- delete the old row.
CREATE TRIGGER review_decision_no_replace BEFORE INSERT ON review_decision
WHEN EXISTS (SELECT 1 FROM review_decision WHERE decision_id = NEW.decision_id)
BEGIN
    SELECT RAISE(ABORT, 'review_decision: a row with this key exists and is never replaced');
END;

CREATE TRIGGER audit_log_no_replace BEFORE INSERT ON audit_log
WHEN EXISTS (SELECT 1 FROM audit_log WHERE audit_id = NEW.audit_id)
BEGIN
    SELECT RAISE(ABORT, 'audit_log: a row with this key exists and is never replaced');
END;

CREATE TRIGGER notice_event_no_replace BEFORE INSERT ON notice_event
WHEN EXISTS (SELECT 1 FROM notice_event WHERE event_id = NEW.event_id)
BEGIN
    SELECT RAISE(ABORT, 'notice_event: a row with this key exists and is never replaced');
END;

CREATE TRIGGER notice_review_decision_no_replace BEFORE INSERT ON notice_review_decision
WHEN EXISTS (SELECT 1 FROM notice_review_decision WHERE request_event_id = NEW.request_event_id)
BEGIN
    SELECT RAISE(ABORT, 'notice_review_decision: a row with this key exists and is never replaced');
END;

CREATE TRIGGER notice_no_replace BEFORE INSERT ON notice
WHEN EXISTS (SELECT 1 FROM notice WHERE notice_id = NEW.notice_id)
BEGIN
    SELECT RAISE(ABORT, 'notice: a row with this key exists and is never replaced');
END;

CREATE TRIGGER notice_number_no_replace BEFORE INSERT ON notice_number
WHEN EXISTS (SELECT 1 FROM notice_number WHERE number = NEW.number)
BEGIN
    SELECT RAISE(ABORT, 'notice_number: a row with this key exists and is never replaced');
END;

CREATE TRIGGER inspection_draw_no_replace BEFORE INSERT ON inspection_draw
WHEN EXISTS (SELECT 1 FROM inspection_draw WHERE round_id = NEW.round_id)
BEGIN
    SELECT RAISE(ABORT, 'inspection_draw: a row with this key exists and is never replaced');
END;

CREATE TRIGGER users_no_replace BEFORE INSERT ON users
WHEN EXISTS (SELECT 1 FROM users WHERE username = NEW.username)
BEGIN
    SELECT RAISE(ABORT, 'users: a row with this key exists and is never replaced');
END;

CREATE TRIGGER complaint_no_replace BEFORE INSERT ON complaint
WHEN EXISTS (SELECT 1 FROM complaint WHERE complaint_id = NEW.complaint_id)
BEGIN
    SELECT RAISE(ABORT, 'complaint: a row with this key exists and is never replaced');
END;

CREATE TRIGGER round_target_no_replace BEFORE INSERT ON round_target
WHEN EXISTS (SELECT 1 FROM round_target
             WHERE round_id = NEW.round_id AND fixmedins_code = NEW.fixmedins_code)
BEGIN
    SELECT RAISE(ABORT, 'round_target: a row with this key exists and is never replaced');
END;
