-- 0008: the bureau's other supervision registers (监管事项, issue 19): supervised entities
-- with their change history, random inspection plans (双随机), inspections with each check
-- item's result and evidence, rectification orders and their follow-up, sanctions, and
-- the numbered documents of all three.
--
-- Which registers exist is data (registers/*.toml), so `register` is a code, not a foreign
-- key. Inspectors and groups are the inspection rounds' (0003): the same auditors' office
-- plans both. Every change writes a chained audit_log row in the same transaction; the
-- records themselves are append-only (triggers), except the current state of an entity
-- and the status of a plan or a rectification, whose every move is an appended row.

-- Grain: one row per supervised entity (agency, school, institution, centre) of one
-- register, as of its latest version; every version is in register_entity_history.
CREATE TABLE register_entity (
    entity_id   INTEGER PRIMARY KEY AUTOINCREMENT,
    register    TEXT NOT NULL CHECK (trim(register) <> ''),
    entity_code TEXT NOT NULL CHECK (trim(entity_code) <> ''),  -- 统一社会信用代码
    name        TEXT NOT NULL CHECK (trim(name) <> ''),
    licence_no  TEXT,
    scope       TEXT,
    valid_from  TEXT,           -- YYYY-MM-DD
    valid_to    TEXT,           -- YYYY-MM-DD: the licence's last valid day
    address     TEXT,
    zone        TEXT NOT NULL CHECK (trim(zone) <> ''),  -- township: the rotation's unit
    legal_rep   TEXT,           -- personal data: never disclosed
    version     INTEGER NOT NULL CHECK (version >= 1),
    updated_at  TEXT NOT NULL,
    updated_by  TEXT NOT NULL,
    UNIQUE (register, entity_code)
);

CREATE TRIGGER register_entity_no_delete BEFORE DELETE ON register_entity
BEGIN
    SELECT RAISE(ABORT, 'supervised entities are never deleted: inspections name them');
END;

-- Grain: one row per version of an entity: all its fields as JSON, the fields that changed
-- (all of them for the first version), and the file the change came from.
CREATE TABLE register_entity_history (
    history_id    INTEGER PRIMARY KEY AUTOINCREMENT,
    entity_id     INTEGER NOT NULL REFERENCES register_entity (entity_id),
    version       INTEGER NOT NULL CHECK (version >= 1),
    fields        TEXT NOT NULL,
    changed       TEXT NOT NULL,
    source        TEXT,
    source_sha256 TEXT,
    at            TEXT NOT NULL,
    actor         TEXT NOT NULL CHECK (trim(actor) <> ''),
    UNIQUE (entity_id, version)
);

-- Grain: one row per declared conflict of interest (回避) between an inspector and an entity.
CREATE TABLE register_conflict (
    inspector_code TEXT NOT NULL REFERENCES inspector (inspector_code),
    entity_id      INTEGER NOT NULL REFERENCES register_entity (entity_id),
    reason         TEXT NOT NULL CHECK (trim(reason) <> ''),
    declared_by    TEXT NOT NULL,
    declared_at    TEXT NOT NULL,
    PRIMARY KEY (inspector_code, entity_id)
);

-- Grain: one row per random inspection plan (抽查计划) of one register, with the draw behind
-- it (inputs and result as canonical JSON with their SHA-256, as inspection_draw keeps
-- them), so an audit recomputes it from the stored seed.
CREATE TABLE register_plan (
    plan_id       INTEGER PRIMARY KEY AUTOINCREMENT,
    register      TEXT NOT NULL CHECK (trim(register) <> ''),
    name          TEXT NOT NULL UNIQUE CHECK (trim(name) <> ''),
    planned_on    TEXT NOT NULL,  -- YYYY-MM-DD
    due_date      TEXT NOT NULL,  -- inspections due by this day
    status        TEXT NOT NULL DEFAULT 'planned'
                  CHECK (status IN ('planned', 'closed', 'cancelled')),
    seed          TEXT NOT NULL,
    inputs        TEXT NOT NULL,
    inputs_sha256 TEXT NOT NULL,
    parameters    TEXT NOT NULL,
    result        TEXT NOT NULL,
    result_sha256 TEXT NOT NULL,
    created_by    TEXT NOT NULL CHECK (trim(created_by) <> ''),
    created_at    TEXT NOT NULL
);

CREATE TRIGGER register_plan_draw_is_fixed BEFORE UPDATE ON register_plan
WHEN NEW.seed IS NOT OLD.seed OR NEW.inputs IS NOT OLD.inputs OR NEW.result IS NOT OLD.result
  OR NEW.inputs_sha256 IS NOT OLD.inputs_sha256 OR NEW.result_sha256 IS NOT OLD.result_sha256
  OR NEW.parameters IS NOT OLD.parameters OR NEW.register IS NOT OLD.register
  OR NEW.due_date IS NOT OLD.due_date OR NEW.planned_on IS NOT OLD.planned_on
BEGIN
    SELECT RAISE(ABORT, 'a plan is kept as drawn: only its status moves');
END;

CREATE TRIGGER register_plan_no_delete BEFORE DELETE ON register_plan
BEGIN
    SELECT RAISE(ABORT, 'plans are never deleted: cancel one instead');
END;

-- Grain: one row per entity a plan visits: how it was chosen and which group visits it.
CREATE TABLE register_plan_target (
    plan_id    INTEGER NOT NULL REFERENCES register_plan (plan_id),
    entity_id  INTEGER NOT NULL REFERENCES register_entity (entity_id),
    source     TEXT NOT NULL CHECK (source IN ('random', 'complaint')),
    source_ref TEXT,
    group_code TEXT NOT NULL REFERENCES inspection_group (group_code),
    PRIMARY KEY (plan_id, entity_id)
);

-- Grain: one row per inspection of one entity (检查记录). result is 'fail' when any item
-- failed. plan_id NULL: not in a plan (a targeted check outside the draw).
CREATE TABLE register_inspection (
    inspection_id INTEGER PRIMARY KEY AUTOINCREMENT,
    register      TEXT NOT NULL,
    entity_id     INTEGER NOT NULL REFERENCES register_entity (entity_id),
    plan_id       INTEGER REFERENCES register_plan (plan_id),
    source        TEXT NOT NULL CHECK (source IN ('random', 'complaint')),
    source_ref    TEXT,
    inspected_on  TEXT NOT NULL,  -- YYYY-MM-DD
    inspectors    TEXT NOT NULL,  -- JSON list of inspector codes
    summary       TEXT NOT NULL CHECK (trim(summary) <> ''),
    result        TEXT NOT NULL CHECK (result IN ('pass', 'fail')),
    recorded_by   TEXT NOT NULL,
    recorded_at   TEXT NOT NULL,
    UNIQUE (plan_id, entity_id)
);

-- Grain: one row per check item of an inspection: pass, fail (with what was found) or
-- not applicable.
CREATE TABLE register_inspection_item (
    inspection_id INTEGER NOT NULL REFERENCES register_inspection (inspection_id),
    item_code     TEXT NOT NULL,
    result        TEXT NOT NULL CHECK (result IN ('pass', 'fail', 'na')),
    finding       TEXT,
    CHECK (result <> 'fail' OR trim(coalesce(finding, '')) <> ''),
    PRIMARY KEY (inspection_id, item_code)
);

-- Grain: one row per evidence file attached to an inspection (or one of its items), kept
-- under WORKSPACE/registers/evidence/ by its SHA-256.
CREATE TABLE register_evidence (
    evidence_id   INTEGER PRIMARY KEY AUTOINCREMENT,
    inspection_id INTEGER NOT NULL REFERENCES register_inspection (inspection_id),
    item_code     TEXT,
    file_name     TEXT NOT NULL,
    path          TEXT NOT NULL,  -- relative to the workspace
    sha256        TEXT NOT NULL CHECK (length(sha256) = 64),
    size          INTEGER NOT NULL,
    added_by      TEXT NOT NULL,
    added_at      TEXT NOT NULL
);

-- Grain: one row per rectification order (整改通知) of a failed inspection. Only status
-- moves (open → closed, or open → escalated), each move a register_rectification_event.
CREATE TABLE register_rectification (
    rectification_id INTEGER PRIMARY KEY AUTOINCREMENT,
    inspection_id    INTEGER NOT NULL UNIQUE REFERENCES register_inspection (inspection_id),
    ordered_on       TEXT NOT NULL,
    due_date         TEXT NOT NULL,  -- last day to rectify
    follow_up_due    TEXT NOT NULL,  -- last day for the follow-up check
    requirements     TEXT NOT NULL CHECK (trim(requirements) <> ''),
    status           TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed', 'escalated')),
    ordered_by       TEXT NOT NULL,
    ordered_at       TEXT NOT NULL
);

CREATE TRIGGER register_rectification_only_status BEFORE UPDATE ON register_rectification
WHEN NEW.inspection_id IS NOT OLD.inspection_id OR NEW.ordered_on IS NOT OLD.ordered_on
  OR NEW.due_date IS NOT OLD.due_date OR NEW.follow_up_due IS NOT OLD.follow_up_due
  OR NEW.requirements IS NOT OLD.requirements OR OLD.status <> 'open'
BEGIN
    SELECT RAISE(ABORT, 'a rectification order is fixed: only an open one moves on');
END;

-- Grain: one row per thing that happened to an order: ordered, a follow-up check (passed
-- or failed), closed, escalated to a sanction. late = 1: after its deadline.
CREATE TABLE register_rectification_event (
    event_id         INTEGER PRIMARY KEY AUTOINCREMENT,
    rectification_id INTEGER NOT NULL REFERENCES register_rectification (rectification_id),
    kind             TEXT NOT NULL CHECK (kind IN ('ordered', 'follow_up', 'closed', 'escalated')),
    outcome          TEXT CHECK (outcome IS NULL OR outcome IN ('passed', 'failed')),
    on_date          TEXT NOT NULL,
    text             TEXT,
    late             INTEGER NOT NULL DEFAULT 0 CHECK (late IN (0, 1)),
    at               TEXT NOT NULL,
    actor            TEXT NOT NULL CHECK (trim(actor) <> '')
);

-- Grain: one row per sanction decided on an escalated order (处理决定).
CREATE TABLE register_sanction (
    sanction_id      INTEGER PRIMARY KEY AUTOINCREMENT,
    rectification_id INTEGER NOT NULL UNIQUE REFERENCES register_rectification (rectification_id),
    kind             TEXT NOT NULL CHECK (kind IN ('warning', 'suspend', 'revoke', 'refer')),
    handling_code    TEXT NOT NULL,  -- the register's handling option
    decision         TEXT NOT NULL CHECK (trim(decision) <> ''),
    decided_on       TEXT NOT NULL,
    decided_by       TEXT NOT NULL,
    decided_at       TEXT NOT NULL
);

-- Grain: one row per document number ever handed out (检查记录 JC, 整改通知书 ZG, 处理决定书
-- CF): allocated while it is rendered, issued once recorded, void when that failed, as
-- notice_number does for violation notices.
CREATE TABLE register_document (
    number         TEXT PRIMARY KEY,
    kind           TEXT NOT NULL
                   CHECK (kind IN ('inspection_record', 'rectification_notice', 'sanction_decision')),
    year           INTEGER NOT NULL,
    serial         INTEGER NOT NULL CHECK (serial >= 1),
    object_id      INTEGER NOT NULL,  -- inspection, rectification or sanction id
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

CREATE INDEX register_document_object ON register_document (kind, object_id, status);

CREATE TRIGGER register_document_issued_is_fixed BEFORE UPDATE ON register_document
WHEN OLD.status <> 'allocated'
BEGIN
    SELECT RAISE(ABORT, 'an issued or void document number is fixed');
END;

CREATE TRIGGER register_document_no_delete BEFORE DELETE ON register_document
BEGIN
    SELECT RAISE(ABORT, 'document numbers are never deleted: a failed one stays void');
END;

-- Append-only records: no update, no delete, no INSERT OR REPLACE.
CREATE TRIGGER register_entity_history_no_update BEFORE UPDATE ON register_entity_history
BEGIN SELECT RAISE(ABORT, 'entity history is append-only'); END;
CREATE TRIGGER register_entity_history_no_delete BEFORE DELETE ON register_entity_history
BEGIN SELECT RAISE(ABORT, 'entity history is append-only'); END;
CREATE TRIGGER register_plan_target_no_update BEFORE UPDATE ON register_plan_target
BEGIN SELECT RAISE(ABORT, 'plan targets are kept as drawn'); END;
CREATE TRIGGER register_plan_target_no_delete BEFORE DELETE ON register_plan_target
BEGIN SELECT RAISE(ABORT, 'plan targets are kept as drawn'); END;
CREATE TRIGGER register_inspection_no_update BEFORE UPDATE ON register_inspection
BEGIN SELECT RAISE(ABORT, 'an inspection record is fixed once recorded'); END;
CREATE TRIGGER register_inspection_no_delete BEFORE DELETE ON register_inspection
BEGIN SELECT RAISE(ABORT, 'an inspection record is fixed once recorded'); END;
CREATE TRIGGER register_inspection_item_no_update BEFORE UPDATE ON register_inspection_item
BEGIN SELECT RAISE(ABORT, 'an inspection record is fixed once recorded'); END;
CREATE TRIGGER register_inspection_item_no_delete BEFORE DELETE ON register_inspection_item
BEGIN SELECT RAISE(ABORT, 'an inspection record is fixed once recorded'); END;
CREATE TRIGGER register_evidence_no_update BEFORE UPDATE ON register_evidence
BEGIN SELECT RAISE(ABORT, 'evidence is append-only'); END;
CREATE TRIGGER register_evidence_no_delete BEFORE DELETE ON register_evidence
BEGIN SELECT RAISE(ABORT, 'evidence is append-only'); END;
CREATE TRIGGER register_rectification_no_delete BEFORE DELETE ON register_rectification
BEGIN SELECT RAISE(ABORT, 'rectification orders are never deleted'); END;
CREATE TRIGGER register_rectification_event_no_update BEFORE UPDATE ON register_rectification_event
BEGIN SELECT RAISE(ABORT, 'rectification events are append-only'); END;
CREATE TRIGGER register_rectification_event_no_delete BEFORE DELETE ON register_rectification_event
BEGIN SELECT RAISE(ABORT, 'rectification events are append-only'); END;
CREATE TRIGGER register_sanction_no_update BEFORE UPDATE ON register_sanction
BEGIN SELECT RAISE(ABORT, 'a sanction decision is fixed'); END;
CREATE TRIGGER register_sanction_no_delete BEFORE DELETE ON register_sanction
BEGIN SELECT RAISE(ABORT, 'a sanction decision is fixed'); END;
CREATE TRIGGER register_conflict_no_delete BEFORE DELETE ON register_conflict
BEGIN SELECT RAISE(ABORT, 'declared conflicts are kept'); END;
