-- 0011: labour-inspection cases (劳动保障监察案件, issue 20): a case against an employer
-- from a complaint, a patrol or an audit, taken through the nine steps of the procedure;
-- every step an appended event, the amounts ordered paid and each payment, and the
-- numbered documents the steps issue.
--
-- The case row keeps the case as it stands (its step, status and deadlines), so lists
-- need no replay; only those columns move, and every move is an appended event with a
-- chained audit_log row in the same transaction. Money is kept in fen (integers), so the
-- outstanding amount is exact.

-- Grain: one row per labour-inspection case.
CREATE TABLE labour_case (
    case_id        INTEGER PRIMARY KEY AUTOINCREMENT,
    case_no        TEXT NOT NULL UNIQUE,          -- LJ-2026-0001
    employer_code  TEXT NOT NULL CHECK (trim(employer_code) <> ''),  -- 统一社会信用代码
    employer_name  TEXT NOT NULL CHECK (trim(employer_name) <> ''),
    employer_kind  TEXT NOT NULL CHECK (employer_kind IN
                   ('enterprise', 'individual', 'private_non_enterprise', 'state_organ',
                    'institution')),
    source         TEXT NOT NULL CHECK (source IN
                   ('complaint', 'patrol', 'audit', 'report_review', 'campaign', 'mass_incident')),
    source_ref     TEXT,
    areas          TEXT NOT NULL,                 -- JSON list of content-area codes
    summary        TEXT NOT NULL CHECK (trim(summary) <> ''),
    parameters     TEXT NOT NULL,                 -- JSON: the deadlines in force when registered
    registered_on  TEXT NOT NULL,                 -- YYYY-MM-DD
    registered_by  TEXT NOT NULL,
    registered_at  TEXT NOT NULL,
    step           TEXT NOT NULL,                 -- the last step taken
    status         TEXT NOT NULL DEFAULT 'open'
                   CHECK (status IN ('open', 'not_opened', 'closed')),
    filed_on       TEXT,                          -- 立案
    conclude_by    TEXT,                          -- filed_on + 60 working days (+ 30 extended)
    extended       INTEGER NOT NULL DEFAULT 0 CHECK (extended IN (0, 1)),
    notice_kind    TEXT CHECK (notice_kind IS NULL OR notice_kind IN ('advance', 'hearing')),
    notice_served  TEXT,
    reply_due      TEXT,                          -- last day to state, defend or ask a hearing
    path           TEXT CHECK (path IS NULL OR path IN ('statement', 'hearing')),
    decided_on     TEXT,
    pay_by         TEXT,                          -- last day to pay what the decision orders
    execution      TEXT CHECK (execution IS NULL OR execution IN ('complied', 'court')),
    closed_on      TEXT
);

CREATE INDEX labour_case_employer ON labour_case (employer_code, registered_on);

CREATE TRIGGER labour_case_identity_is_fixed BEFORE UPDATE ON labour_case
WHEN NEW.case_no IS NOT OLD.case_no OR NEW.employer_code IS NOT OLD.employer_code
  OR NEW.employer_name IS NOT OLD.employer_name OR NEW.employer_kind IS NOT OLD.employer_kind
  OR NEW.source IS NOT OLD.source OR NEW.areas IS NOT OLD.areas
  OR NEW.summary IS NOT OLD.summary OR NEW.parameters IS NOT OLD.parameters
  OR NEW.registered_on IS NOT OLD.registered_on OR OLD.status = 'closed'
BEGIN
    SELECT RAISE(ABORT, 'a labour case keeps what was registered; a closed case is fixed');
END;

CREATE TRIGGER labour_case_no_delete BEFORE DELETE ON labour_case
BEGIN
    SELECT RAISE(ABORT, 'labour cases are never deleted');
END;

-- Grain: one row per thing done on a case: a step taken (its action), with the day it was
-- done, the text recorded, details as JSON, and late = 1 when after its deadline.
CREATE TABLE labour_case_event (
    event_id  INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id   INTEGER NOT NULL REFERENCES labour_case (case_id),
    step      TEXT NOT NULL,
    action    TEXT NOT NULL,
    on_date   TEXT NOT NULL,
    text      TEXT,
    detail    TEXT,
    late      INTEGER NOT NULL DEFAULT 0 CHECK (late IN (0, 1)),
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL CHECK (trim(actor) <> '')
);

CREATE INDEX labour_case_event_case ON labour_case_event (case_id, event_id);

-- Grain: one row per kind of amount a decision orders paid (back wages, contributions,
-- compensation, fine), in fen.
CREATE TABLE labour_case_amount (
    case_id     INTEGER NOT NULL REFERENCES labour_case (case_id),
    kind        TEXT NOT NULL
                CHECK (kind IN ('back_wages', 'contributions', 'compensation', 'fine')),
    ordered_fen INTEGER NOT NULL CHECK (ordered_fen > 0),
    PRIMARY KEY (case_id, kind)
);

-- Grain: one row per payment made against an amount ordered, in fen.
CREATE TABLE labour_case_payment (
    payment_id  INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id     INTEGER NOT NULL REFERENCES labour_case (case_id),
    kind        TEXT NOT NULL,
    amount_fen  INTEGER NOT NULL CHECK (amount_fen > 0),
    paid_on     TEXT NOT NULL,
    reference   TEXT,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    FOREIGN KEY (case_id, kind) REFERENCES labour_case_amount (case_id, kind)
);

-- Grain: one row per document number ever handed out for a labour case (询问通知书 XW,
-- 事先告知书 GZ, 听证告知书 TZ, 处理(处罚)决定书 JD, 结案记录 JA): allocated while it is
-- rendered, issued once recorded, void when that failed, as register_document does.
CREATE TABLE labour_document (
    number         TEXT PRIMARY KEY,
    kind           TEXT NOT NULL CHECK (kind IN
                   ('inquiry_notice', 'advance_notice', 'hearing_notice', 'decision',
                    'closing_record')),
    year           INTEGER NOT NULL,
    serial         INTEGER NOT NULL CHECK (serial >= 1),
    object_id      INTEGER NOT NULL REFERENCES labour_case (case_id),
    status         TEXT NOT NULL CHECK (status IN ('allocated', 'issued', 'void')),
    void_reason    TEXT,
    issue_date     TEXT,
    content_json   TEXT,
    content_sha256 TEXT,
    docx_path      TEXT,
    docx_sha256    TEXT,
    pdf_path       TEXT,
    pdf_sha256     TEXT,
    allocated_by   TEXT NOT NULL,
    allocated_at   TEXT NOT NULL,
    UNIQUE (kind, year, serial)
);

CREATE INDEX labour_document_object ON labour_document (kind, object_id, status);

CREATE TRIGGER labour_document_issued_is_fixed BEFORE UPDATE ON labour_document
WHEN OLD.status <> 'allocated'
BEGIN
    SELECT RAISE(ABORT, 'an issued or void document number is fixed');
END;

CREATE TRIGGER labour_document_no_delete BEFORE DELETE ON labour_document
BEGIN
    SELECT RAISE(ABORT, 'document numbers are never deleted: a failed one stays void');
END;

CREATE TRIGGER labour_case_event_no_update BEFORE UPDATE ON labour_case_event
BEGIN SELECT RAISE(ABORT, 'case events are append-only'); END;
CREATE TRIGGER labour_case_event_no_delete BEFORE DELETE ON labour_case_event
BEGIN SELECT RAISE(ABORT, 'case events are append-only'); END;
CREATE TRIGGER labour_case_amount_no_update BEFORE UPDATE ON labour_case_amount
BEGIN SELECT RAISE(ABORT, 'an amount ordered is fixed by its decision'); END;
CREATE TRIGGER labour_case_amount_no_delete BEFORE DELETE ON labour_case_amount
BEGIN SELECT RAISE(ABORT, 'an amount ordered is fixed by its decision'); END;
CREATE TRIGGER labour_case_payment_no_update BEFORE UPDATE ON labour_case_payment
BEGIN SELECT RAISE(ABORT, 'payments are append-only'); END;
CREATE TRIGGER labour_case_payment_no_delete BEFORE DELETE ON labour_case_payment
BEGIN SELECT RAISE(ABORT, 'payments are append-only'); END;
