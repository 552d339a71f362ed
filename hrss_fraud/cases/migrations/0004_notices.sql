-- 0004: on-site violation notices (现场监督检查违约通知单, DOMAIN.md §5).
--
-- Independent of the other migrations after 0002: a notice names its inspection round or
-- target as free text (round_ref, target_ref), not as a foreign key, and its leads by
-- finding_id, as review_decision does.
--
-- A notice is a draft until it is issued. Issuing takes a number (year + serial, e.g.
-- 2026-0001) in its own write transaction, renders the documents, then records them; a
-- number whose issuance failed is kept as void and never handed out again, so the serials
-- of a year are consecutive and each names exactly one attempt.

CREATE TABLE notice_status (
    status   TEXT PRIMARY KEY,
    seq      INTEGER NOT NULL UNIQUE,  -- order of the life of a notice
    label_zh TEXT NOT NULL,
    label_en TEXT NOT NULL
);

INSERT INTO notice_status (status, seq, label_zh, label_en) VALUES
    ('draft',        0, '草稿',             'draft'),
    ('issued',       1, '已下达',           'issued'),
    ('acknowledged', 2, '机构已签收',       'acknowledged'),
    ('rectified',    3, '已提交整改报告',   'rectification submitted'),
    ('closed',       4, '整改验收，已办结', 'verified and closed');

-- The handling a violation item may carry (DOMAIN.md §4): a lookup table, so a new
-- measure is an INSERT in a later migration.
CREATE TABLE notice_measure (
    measure    TEXT PRIMARY KEY,
    seq        INTEGER NOT NULL UNIQUE,
    has_amount INTEGER NOT NULL CHECK (has_amount IN (0, 1)),  -- 1: the measure is an amount
    label_zh   TEXT NOT NULL,
    label_en   TEXT NOT NULL
);

INSERT INTO notice_measure (measure, seq, has_amount, label_zh, label_en) VALUES
    ('recover',   1, 1, '追回医保基金', 'recover paid fund'),
    ('refuse',    2, 1, '拒付费用',     'refuse payment'),
    ('penalty',   3, 1, '违约金',       'breach penalty'),
    ('suspend',   4, 0, '暂停医保结算', 'suspend settlement'),
    ('interview', 5, 0, '约谈',         'interview the institution'),
    ('rectify',   6, 0, '限期整改',     'rectify within a deadline'),
    ('terminate', 7, 0, '解除服务协议', 'terminate the agreement');

-- Grain: one row per notice, draft or issued. The draft columns may change until the
-- notice is issued; from then on content_json (the exact content model rendered) and the
-- documents' SHA-256 are fixed, and only status moves (trigger below).
CREATE TABLE notice (
    notice_id        INTEGER PRIMARY KEY AUTOINCREMENT,
    number           TEXT UNIQUE,  -- NULL while a draft; set once, at issue
    status           TEXT NOT NULL DEFAULT 'draft' REFERENCES notice_status (status),
    fixmedins_code   TEXT NOT NULL CHECK (trim(fixmedins_code) <> ''),
    fixmedins_name   TEXT,
    agreement_no     TEXT,          -- 医疗服务协议编号
    round_ref        TEXT,          -- inspection round, as the rounds module names it
    target_ref       TEXT,          -- the target within the round
    inspection_date  TEXT NOT NULL, -- YYYY-MM-DD
    onsite_facts     TEXT NOT NULL CHECK (trim(onsite_facts) <> ''),
    inspectors       TEXT NOT NULL, -- JSON list of names
    representative   TEXT,          -- the institution's representative present
    issuing_unit     TEXT NOT NULL CHECK (trim(issuing_unit) <> ''),
    requirements     TEXT NOT NULL CHECK (trim(requirements) <> ''),  -- 整改要求
    rectify_days     INTEGER NOT NULL CHECK (rectify_days BETWEEN 1 AND 365),
    statement_days   INTEGER NOT NULL DEFAULT 10 CHECK (statement_days BETWEEN 1 AND 60),
    created_by       TEXT NOT NULL CHECK (trim(created_by) <> ''),
    created_at       TEXT NOT NULL,  -- ISO-8601 UTC
    issue_date       TEXT,           -- YYYY-MM-DD, set at issue
    statement_due    TEXT,           -- last day for a statement or review request
    rectify_due      TEXT,           -- last day to submit the rectification
    content_json     TEXT,           -- the content model as rendered, set at issue
    content_sha256   TEXT,
    docx_path        TEXT,           -- relative to the workspace
    docx_sha256      TEXT,
    pdf_path         TEXT,
    pdf_sha256       TEXT
);

CREATE INDEX notice_institution ON notice (fixmedins_code);
CREATE INDEX notice_status_due ON notice (status, rectify_due);

CREATE TRIGGER notice_issued_is_fixed BEFORE UPDATE ON notice
WHEN OLD.status <> 'draft' AND (
    NEW.number IS NOT OLD.number OR NEW.content_json IS NOT OLD.content_json
    OR NEW.content_sha256 IS NOT OLD.content_sha256 OR NEW.docx_sha256 IS NOT OLD.docx_sha256
    OR NEW.pdf_sha256 IS NOT OLD.pdf_sha256 OR NEW.issue_date IS NOT OLD.issue_date
    OR NEW.fixmedins_code IS NOT OLD.fixmedins_code OR NEW.onsite_facts IS NOT OLD.onsite_facts
    OR NEW.rectify_due IS NOT OLD.rectify_due OR NEW.statement_due IS NOT OLD.statement_due)
BEGIN
    SELECT RAISE(ABORT, 'an issued notice is fixed: only its status moves');
END;

CREATE TRIGGER notice_no_delete BEFORE DELETE ON notice
BEGIN
    SELECT RAISE(ABORT, 'notices are never deleted');
END;

-- Grain: one row per number ever handed out. status 'allocated' while its issuance runs,
-- 'issued' once recorded, 'void' when it failed (void_reason says why).
CREATE TABLE notice_number (
    number       TEXT PRIMARY KEY,
    year         INTEGER NOT NULL,
    serial       INTEGER NOT NULL CHECK (serial >= 1),
    notice_id    INTEGER NOT NULL REFERENCES notice (notice_id),
    status       TEXT NOT NULL CHECK (status IN ('allocated', 'issued', 'void')),
    allocated_at TEXT NOT NULL,
    allocated_by TEXT NOT NULL,
    void_reason  TEXT,
    UNIQUE (year, serial)
);

CREATE TRIGGER notice_number_no_delete BEFORE DELETE ON notice_number
BEGIN
    SELECT RAISE(ABORT, 'notice numbers are never deleted: a failed one stays void');
END;

-- Grain: one row per confirmed lead a notice is built from.
CREATE TABLE notice_finding (
    notice_id  INTEGER NOT NULL REFERENCES notice (notice_id),
    finding_id TEXT NOT NULL CHECK (finding_id <> ''),
    PRIMARY KEY (notice_id, finding_id)
);

CREATE INDEX notice_finding_finding ON notice_finding (finding_id);

-- Grain: one row per violation item (违约事项) of a notice, numbered from 1.
CREATE TABLE notice_item (
    notice_id       INTEGER NOT NULL REFERENCES notice (notice_id),
    seq             INTEGER NOT NULL CHECK (seq >= 1),
    rule            TEXT NOT NULL CHECK (trim(rule) <> ''),  -- the breach, named
    facts           TEXT NOT NULL CHECK (trim(facts) <> ''),
    legal_basis     TEXT NOT NULL CHECK (trim(legal_basis) <> ''),
    amount_involved REAL NOT NULL CHECK (amount_involved >= 0),
    PRIMARY KEY (notice_id, seq)
);

-- Grain: one row per measure decided for one item.
CREATE TABLE notice_handling (
    notice_id INTEGER NOT NULL,
    item_seq  INTEGER NOT NULL,
    measure   TEXT NOT NULL REFERENCES notice_measure (measure),
    amount    REAL CHECK (amount IS NULL OR amount >= 0),
    detail    TEXT,  -- e.g. 暂停结算3个月
    PRIMARY KEY (notice_id, item_seq, measure),
    FOREIGN KEY (notice_id, item_seq) REFERENCES notice_item (notice_id, seq)
);

-- Grain: one row per thing that happened to an issued notice, never updated or deleted:
-- a status change (issued, acknowledged, rectified, closed) or a statement or review
-- request from the institution, with the date it happened (on_date, as told) and when it
-- was recorded (at). late = 1: received after the notice's deadline for it.
CREATE TABLE notice_event (
    event_id  INTEGER PRIMARY KEY AUTOINCREMENT,
    notice_id INTEGER NOT NULL REFERENCES notice (notice_id),
    kind      TEXT NOT NULL CHECK (kind IN ('issued', 'acknowledged', 'statement',
                  'review_request', 'rectified', 'closed')),
    on_date   TEXT NOT NULL,  -- YYYY-MM-DD
    at        TEXT NOT NULL,  -- ISO-8601 UTC
    actor     TEXT NOT NULL CHECK (trim(actor) <> ''),
    person    TEXT,           -- who for the institution (signed, stated, submitted)
    text      TEXT,
    late      INTEGER NOT NULL DEFAULT 0 CHECK (late IN (0, 1))
);

CREATE INDEX notice_event_notice ON notice_event (notice_id, event_id);

CREATE TRIGGER notice_event_no_update BEFORE UPDATE ON notice_event
BEGIN
    SELECT RAISE(ABORT, 'notice events are append-only');
END;

CREATE TRIGGER notice_event_no_delete BEFORE DELETE ON notice_event
BEGIN
    SELECT RAISE(ABORT, 'notice events are append-only');
END;
