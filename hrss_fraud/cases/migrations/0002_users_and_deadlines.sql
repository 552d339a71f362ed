-- 0002: dashboard users and their roles, a deadline per review step, audit-log indexes.
--
-- 0001 already holds what the workflow records: the five steps in order, a mandatory
-- reason on every decision, bulk actions under one batch_id, and the append-only
-- audit_log (at, actor = the user name, action, object_type, object_id, detail JSON).
-- What it lacked: who may use the dashboard, and how long each step may take.

CREATE TABLE user_role (
    role     TEXT PRIMARY KEY,
    seq      INTEGER NOT NULL UNIQUE,  -- display order, least to most trusted
    label_zh TEXT NOT NULL,
    label_en TEXT NOT NULL
);

INSERT INTO user_role (role, seq, label_zh, label_en) VALUES
    ('auditor',    1, '稽核员',     'auditor'),
    ('reviewer',   2, '审核员',     'reviewer'),
    ('supervisor', 3, '审核负责人', 'supervisor'),
    ('admin',      4, '系统管理员', 'administrator');

-- Grain: one row per dashboard account. Never deleted (decisions and the audit log name
-- its user): an account that leaves is disabled (active = 0).
CREATE TABLE users (
    user_id       INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT NOT NULL UNIQUE COLLATE NOCASE
                  CHECK (username <> '' AND username = trim(username)),
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL REFERENCES user_role (role),
    password_hash TEXT NOT NULL CHECK (password_hash LIKE '%$%$%'),  -- werkzeug: method$salt$hash
    active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at    TEXT NOT NULL,  -- ISO-8601 UTC
    updated_at    TEXT NOT NULL
);

CREATE TRIGGER users_no_delete BEFORE DELETE ON users
BEGIN
    SELECT RAISE(ABORT, 'users are disabled, never deleted: decisions and the audit log name them');
END;

-- Grain: one row per review step: the days a lead may wait at that step before it is
-- overdue. Local choices (DOMAIN.md §1, §4): a statement or review request within 10 days
-- of the notice, a review decided within 15, a complaint handled within 30. A change is
-- an UPDATE here plus a deadline.change row in the audit log with the old value and why.
CREATE TABLE step_deadline (
    step       TEXT PRIMARY KEY REFERENCES review_step (step),
    days       INTEGER NOT NULL CHECK (days BETWEEN 1 AND 365),
    changed_by TEXT NOT NULL,
    changed_at TEXT NOT NULL,
    reason     TEXT NOT NULL CHECK (trim(reason) <> '')
);

INSERT INTO step_deadline (step, days, changed_by, changed_at, reason)
SELECT step, days, 'migration 0002', '2025-01-01T00:00:00.000000Z', '默认时限 default deadline'
FROM (
    SELECT 'first_review' AS step, 15 AS days
    UNION ALL SELECT 'second_review', 15
    UNION ALL SELECT 'appeal', 10
    UNION ALL SELECT 'investigation', 30
    UNION ALL SELECT 'sanction', 15
);

-- The audit page filters by time and by action; login lockout reads one user's rows.
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_action ON audit_log (action, at);
