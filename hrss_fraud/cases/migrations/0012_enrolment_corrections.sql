-- 0012: correction requests to employers (要求整改, issue 20): the enrolment audit's
-- "explain and require correction of what does not conform". One request names one
-- employer, the enrolment hits of one run it is about, a note and a deadline in days;
-- it is then marked corrected (整改完成). Overdue is computed when asked, never stored.
--
-- What was requested is fixed once written; only the corrected columns are filled, once.
-- Every change writes a chained audit_log row in the same transaction. Money in fen.

-- Grain: one row per correction request to an employer.
CREATE TABLE enrolment_correction (
    correction_id  INTEGER PRIMARY KEY AUTOINCREMENT,
    emp_no         TEXT NOT NULL CHECK (trim(emp_no) <> ''),
    emp_name       TEXT NOT NULL,
    run_id         TEXT NOT NULL,
    finding_ids    TEXT NOT NULL,               -- JSON list of the hits the request is about
    amount_fen     INTEGER NOT NULL CHECK (amount_fen >= 0),  -- at stake in them, requested
    note           TEXT NOT NULL CHECK (trim(note) <> ''),
    days           INTEGER NOT NULL CHECK (days >= 1),
    requested_on   TEXT NOT NULL,               -- YYYY-MM-DD
    due_on         TEXT NOT NULL,               -- requested_on + days: the last day
    requested_by   TEXT NOT NULL,
    requested_at   TEXT NOT NULL,
    corrected_on   TEXT,
    corrected_note TEXT,
    corrected_by   TEXT,
    corrected_at   TEXT
);

CREATE INDEX enrolment_correction_employer ON enrolment_correction (emp_no, requested_on);

CREATE TRIGGER enrolment_correction_request_is_fixed BEFORE UPDATE ON enrolment_correction
WHEN NEW.emp_no IS NOT OLD.emp_no OR NEW.emp_name IS NOT OLD.emp_name
  OR NEW.run_id IS NOT OLD.run_id OR NEW.finding_ids IS NOT OLD.finding_ids
  OR NEW.amount_fen IS NOT OLD.amount_fen OR NEW.note IS NOT OLD.note
  OR NEW.days IS NOT OLD.days OR NEW.requested_on IS NOT OLD.requested_on
  OR NEW.due_on IS NOT OLD.due_on OR NEW.requested_by IS NOT OLD.requested_by
  OR NEW.requested_at IS NOT OLD.requested_at OR OLD.corrected_on IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'a correction request keeps what was requested; a corrected one is fixed');
END;

CREATE TRIGGER enrolment_correction_no_delete BEFORE DELETE ON enrolment_correction
BEGIN
    SELECT RAISE(ABORT, 'correction requests are never deleted');
END;
