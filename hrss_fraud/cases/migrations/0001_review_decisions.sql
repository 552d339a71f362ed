-- 0001: reviewers' decisions on leads, and the audit log.
--
-- Grain of review_decision: one row per decision a person records on one lead (finding),
-- never updated or deleted; the lead's current state is its latest row (highest
-- decision_id). The steps and outcomes are tables, not CHECK lists, so a later migration
-- can add one with an INSERT instead of rebuilding the table.

CREATE TABLE review_step (
    step     TEXT PRIMARY KEY,
    seq      INTEGER NOT NULL UNIQUE,  -- order of the workflow (DOMAIN.md §4)
    label_zh TEXT NOT NULL,
    label_en TEXT NOT NULL
);

INSERT INTO review_step (step, seq, label_zh, label_en) VALUES
    ('first_review',  1, '初审',     'first review'),
    ('second_review', 2, '复审',     'second review'),
    ('appeal',        3, '申诉',     'appeal'),
    ('investigation', 4, '调查核实', 'investigation'),
    ('sanction',      5, '违规处理', 'sanction');

CREATE TABLE review_outcome (
    decision TEXT PRIMARY KEY,
    label    INTEGER CHECK (label IN (0, 1)),  -- the lead's label for learning; NULL: not final
    label_zh TEXT NOT NULL,
    label_en TEXT NOT NULL
);

INSERT INTO review_outcome (decision, label, label_zh, label_en) VALUES
    ('confirmed',  1,    '确认违规',   'confirmed'),
    ('dismissed',  0,    '排除疑点',   'dismissed'),
    ('pending',    NULL, '待定',       'pending'),
    ('needs_info', NULL, '需补充材料', 'needs more information');

CREATE TABLE review_decision (
    decision_id    INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: the order of recording
    finding_id     TEXT NOT NULL CHECK (finding_id <> ''),
    step           TEXT NOT NULL REFERENCES review_step (step),
    decision       TEXT NOT NULL REFERENCES review_outcome (decision),
    reason         TEXT NOT NULL CHECK (trim(reason) <> ''),
    decided_by     TEXT NOT NULL CHECK (trim(decided_by) <> ''),
    decided_at     TEXT NOT NULL,  -- ISO-8601 UTC, e.g. 2025-03-01T08:15:00.123456Z
    batch_id       TEXT,           -- one bulk action or import; NULL for a single decision
    -- the lead as the reviewer saw it (its run may later be replaced)
    rule_id        TEXT,
    fixmedins_code TEXT,
    entity_type    TEXT,
    amount_at_risk REAL,
    run_id         TEXT
);

CREATE INDEX review_decision_finding ON review_decision (finding_id, decision_id);
CREATE INDEX review_decision_institution ON review_decision (fixmedins_code);

CREATE TRIGGER review_decision_no_update BEFORE UPDATE ON review_decision
BEGIN
    SELECT RAISE(ABORT, 'review decisions are append-only: record a new decision instead');
END;

CREATE TRIGGER review_decision_no_delete BEFORE DELETE ON review_decision
BEGIN
    SELECT RAISE(ABORT, 'review decisions are append-only: record a new decision instead');
END;

CREATE VIEW current_decision AS
SELECT d.*
FROM review_decision AS d
JOIN (
    SELECT finding_id, max(decision_id) AS decision_id FROM review_decision GROUP BY finding_id
) AS latest ON latest.decision_id = d.decision_id;

-- Grain of audit_log: one row per thing a person did (a decision now; later a login, a view
-- of a person's record, a parameter change), never updated or deleted.
CREATE TABLE audit_log (
    audit_id    INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT NOT NULL,  -- ISO-8601 UTC
    actor       TEXT NOT NULL CHECK (trim(actor) <> ''),
    action      TEXT NOT NULL,  -- e.g. decision.record, decision.import
    object_type TEXT NOT NULL,  -- e.g. finding, batch
    object_id   TEXT NOT NULL,
    detail      TEXT            -- JSON
);

CREATE INDEX audit_log_object ON audit_log (object_type, object_id);
CREATE INDEX audit_log_actor ON audit_log (actor, at);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
