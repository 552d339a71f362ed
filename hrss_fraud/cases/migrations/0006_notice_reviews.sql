-- 0006: the centre's decision on an institution's review request of a notice (复核决定).
--
-- A review of a supervision notice may be requested within 10 days and is decided within
-- 15 days of the request (DOMAIN.md §1). The request is a notice_event of 0004
-- (kind 'review_request'); its decision is a row here, one per request, never updated or
-- deleted. Revoking the notice on review ends it: status 'revoked', no rectification is
-- awaited any more.

CREATE TABLE notice_review_outcome (
    outcome  TEXT PRIMARY KEY,
    seq      INTEGER NOT NULL UNIQUE,
    label_zh TEXT NOT NULL,
    label_en TEXT NOT NULL
);

INSERT INTO notice_review_outcome (outcome, seq, label_zh, label_en) VALUES
    ('upheld',  1, '维持原通知', 'notice upheld'),
    ('amended', 2, '变更处理',   'handling amended'),
    ('revoked', 3, '撤销通知',   'notice revoked');

INSERT INTO notice_status (status, seq, label_zh, label_en) VALUES
    ('revoked', 5, '复核撤销', 'revoked on review');

-- Grain: one row per decided review request. late = 1: decided after the 15 days.
CREATE TABLE notice_review_decision (
    request_event_id INTEGER PRIMARY KEY REFERENCES notice_event (event_id),
    notice_id        INTEGER NOT NULL REFERENCES notice (notice_id),
    outcome          TEXT NOT NULL REFERENCES notice_review_outcome (outcome),
    on_date          TEXT NOT NULL,  -- YYYY-MM-DD, the day it was decided
    at               TEXT NOT NULL,  -- ISO-8601 UTC, when it was recorded
    actor            TEXT NOT NULL CHECK (trim(actor) <> ''),
    text             TEXT NOT NULL CHECK (trim(text) <> ''),  -- the decision and its reasons
    late             INTEGER NOT NULL DEFAULT 0 CHECK (late IN (0, 1))
);

CREATE INDEX notice_review_decision_notice ON notice_review_decision (notice_id);

-- Every review request with its decision deadline and, once decided, its decision: the
-- one place the 15 days are counted.
CREATE VIEW notice_review AS
SELECT e.notice_id, e.event_id AS request_event_id, e.on_date AS requested_on,
       date(e.on_date, '+15 days') AS decision_due,
       d.outcome, d.on_date AS decided_on, d.actor AS decided_by, d.text, d.late
FROM notice_event e
LEFT JOIN notice_review_decision d ON d.request_event_id = e.event_id
WHERE e.kind = 'review_request';

CREATE TRIGGER notice_review_decision_no_update BEFORE UPDATE ON notice_review_decision
BEGIN
    SELECT RAISE(ABORT, 'review decisions are append-only');
END;

CREATE TRIGGER notice_review_decision_no_delete BEFORE DELETE ON notice_review_decision
BEGIN
    SELECT RAISE(ABORT, 'review decisions are append-only');
END;
