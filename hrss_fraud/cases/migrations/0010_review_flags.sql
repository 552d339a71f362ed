-- 0010: leads flagged for review (提请审核, issue 18): anyone who may see the leads (an
-- auditor too, who records no decision) asks the reviewers to look at one, with a note.
--
-- A flag is not a decision: it moves no lead from its step. The table is append-only, as
-- the decisions are; the flag's chained audit row (lead.flag) carries the same note, so
-- an edited flag shows against the chain.

CREATE TABLE review_flag (
    flag_id     INTEGER PRIMARY KEY AUTOINCREMENT,
    finding_id  TEXT NOT NULL,
    note        TEXT NOT NULL CHECK (length(trim(note)) > 0),
    flagged_by  TEXT NOT NULL CHECK (length(trim(flagged_by)) > 0),
    flagged_at  TEXT NOT NULL  -- ISO-8601 UTC
);

CREATE INDEX review_flag_finding ON review_flag (finding_id, flag_id);

CREATE TRIGGER review_flag_no_update BEFORE UPDATE ON review_flag
BEGIN
    SELECT RAISE(ABORT, 'review flags are append-only');
END;

CREATE TRIGGER review_flag_no_delete BEFORE DELETE ON review_flag
BEGIN
    SELECT RAISE(ABORT, 'review flags are append-only');
END;

CREATE TRIGGER review_flag_no_replace BEFORE INSERT ON review_flag
WHEN EXISTS (SELECT 1 FROM review_flag WHERE flag_id = NEW.flag_id)
BEGIN
    SELECT RAISE(ABORT, 'review flags are append-only');
END;
