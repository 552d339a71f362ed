-- 0005: complaints and tips (举报投诉), their targets, targeted data checks and the leads
-- those checks found.
--
-- Independent of 0003 (inspection rounds) and 0004 (notices): it references only 0001's
-- audit_log conventions and nothing they create, so the three apply in any order.
-- Sources, statuses and outcomes are lookup tables, as in 0001: a new one is an INSERT.

CREATE TABLE complaint_source (
    source   TEXT PRIMARY KEY,
    seq      INTEGER NOT NULL UNIQUE,
    label_zh TEXT NOT NULL,
    label_en TEXT NOT NULL
);

INSERT INTO complaint_source (source, seq, label_zh, label_en) VALUES
    ('phone',    1, '电话',     'phone'),
    ('letter',   2, '信件',     'letter'),
    ('online',   3, '网络',     'online'),
    ('visit',    4, '来访',     'in person'),
    ('referral', 5, '上级转办', 'referred by a higher authority'),
    ('media',    6, '媒体',     'media report'),
    ('other',    7, '其他',     'other');

CREATE TABLE complaint_status (
    status   TEXT PRIMARY KEY,
    seq      INTEGER NOT NULL UNIQUE,  -- a complaint only moves forward in this order
    label_zh TEXT NOT NULL,
    label_en TEXT NOT NULL
);

INSERT INTO complaint_status (status, seq, label_zh, label_en) VALUES
    ('registered', 1, '已登记', 'registered'),
    ('checking',   2, '核查中', 'checking'),
    ('handled',    3, '已办结', 'handled');

CREATE TABLE complaint_outcome (
    outcome  TEXT PRIMARY KEY,
    seq      INTEGER NOT NULL UNIQUE,
    label_zh TEXT NOT NULL,
    label_en TEXT NOT NULL
);

INSERT INTO complaint_outcome (outcome, seq, label_zh, label_en) VALUES
    ('substantiated', 1, '属实',     'substantiated'),
    ('partly',        2, '部分属实', 'partly substantiated'),
    ('unfounded',     3, '不属实',   'unfounded'),
    ('referred',      4, '转办',     'referred elsewhere');

-- Grain: one row per complaint or tip received. Never deleted; the status only moves
-- forward (registered → checking → handled; registered → handled only when referred on)
-- and a handled complaint is final. due_on is the receipt date plus the days allowed
-- (30, DOMAIN.md §1), fixed at registration so a later change of the rule does not move
-- old deadlines.
CREATE TABLE complaint (
    complaint_id  INTEGER PRIMARY KEY AUTOINCREMENT,
    number        TEXT NOT NULL UNIQUE,  -- year-serial of receipt, e.g. 2025-0007
    year          INTEGER NOT NULL,
    serial        INTEGER NOT NULL CHECK (serial >= 1),
    received_on   TEXT NOT NULL CHECK (date(received_on) = received_on),  -- YYYY-MM-DD
    due_on        TEXT NOT NULL CHECK (date(due_on) = due_on AND due_on > received_on),
    source        TEXT NOT NULL REFERENCES complaint_source (source),
    complainant   TEXT,                  -- NULL: anonymous; masked wherever it is listed
    contact       TEXT,                  -- phone or address; masked likewise
    content       TEXT NOT NULL CHECK (trim(content) <> ''),
    status        TEXT NOT NULL DEFAULT 'registered' REFERENCES complaint_status (status),
    handler       TEXT,
    outcome       TEXT REFERENCES complaint_outcome (outcome),
    outcome_text  TEXT,
    handled_on    TEXT CHECK (handled_on IS NULL OR date(handled_on) = handled_on),
    registered_by TEXT NOT NULL CHECK (trim(registered_by) <> ''),
    registered_at TEXT NOT NULL,         -- ISO-8601 UTC
    updated_at    TEXT NOT NULL,
    UNIQUE (year, serial),
    CHECK ((status = 'handled') = (outcome IS NOT NULL)),
    CHECK (status <> 'handled'
           OR (coalesce(trim(outcome_text), '') <> '' AND coalesce(handled_on, '') >= received_on))
);

CREATE INDEX complaint_open ON complaint (status, due_on);

CREATE TRIGGER complaint_no_delete BEFORE DELETE ON complaint
BEGIN
    SELECT RAISE(ABORT, 'complaints are never deleted: close one with an outcome instead');
END;

CREATE TRIGGER complaint_forward_only BEFORE UPDATE OF status ON complaint
WHEN (SELECT seq FROM complaint_status WHERE status = NEW.status)
   < (SELECT seq FROM complaint_status WHERE status = OLD.status)
BEGIN
    SELECT RAISE(ABORT, 'a complaint''s status only moves forward');
END;

CREATE TRIGGER complaint_handled_final BEFORE UPDATE ON complaint
WHEN OLD.status = 'handled'
BEGIN
    SELECT RAISE(ABORT, 'a handled complaint is final');
END;

-- Grain: one row per institution or insured person a complaint names (or that the
-- handler linked later). Codes are the platform's: fixmedins_code, psn_no.
CREATE TABLE complaint_target (
    complaint_id INTEGER NOT NULL REFERENCES complaint (complaint_id),
    kind         TEXT NOT NULL CHECK (kind IN ('institution', 'person')),
    code         TEXT NOT NULL CHECK (code <> '' AND code = trim(code)),
    linked_by    TEXT NOT NULL,
    linked_at    TEXT NOT NULL,
    PRIMARY KEY (complaint_id, kind, code)
);

CREATE INDEX complaint_target_code ON complaint_target (kind, code);

-- Grain: one row per targeted data check run for a complaint (a complaint may be checked
-- again, e.g. after a new scoring run). fingerprint is the SHA-256 of what the check read
-- and found, so two checks that saw the same data carry the same one.
CREATE TABLE complaint_check (
    check_id     INTEGER PRIMARY KEY AUTOINCREMENT,
    complaint_id INTEGER NOT NULL REFERENCES complaint (complaint_id),
    checked_by   TEXT NOT NULL CHECK (trim(checked_by) <> ''),
    checked_at   TEXT NOT NULL,
    date_from    TEXT NOT NULL,
    date_to      TEXT NOT NULL,
    run_id       TEXT,                   -- NULL: no scoring run yet, lake figures only
    fingerprint  TEXT NOT NULL,
    summary_zh   TEXT NOT NULL,
    summary_en   TEXT NOT NULL,
    detail       TEXT NOT NULL           -- JSON: the figures the summaries state
);

CREATE INDEX complaint_check_complaint ON complaint_check (complaint_id, check_id);

-- Grain: one row per lead (finding) linked to a complaint, by a check or by hand, with the
-- lead as it was then (its run may later be replaced).
CREATE TABLE complaint_lead (
    complaint_id   INTEGER NOT NULL REFERENCES complaint (complaint_id),
    finding_id     TEXT NOT NULL CHECK (finding_id <> ''),
    check_id       INTEGER REFERENCES complaint_check (check_id),  -- NULL: linked by hand
    rule_id        TEXT,
    fixmedins_code TEXT,
    psn_no         TEXT,
    amount_at_risk REAL,
    run_id         TEXT,
    linked_by      TEXT NOT NULL,
    linked_at      TEXT NOT NULL,
    PRIMARY KEY (complaint_id, finding_id)
);

CREATE INDEX complaint_lead_finding ON complaint_lead (finding_id);
