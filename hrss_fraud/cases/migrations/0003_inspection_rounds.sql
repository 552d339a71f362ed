-- 0003: on-site inspection rounds (检查轮次): zones, inspectors, groups, conflicts of
-- interest, rounds, their targets, and the random draws behind them (DOMAIN.md §5).
--
-- Stands alone: references only its own tables, so notices and complaints can be added in
-- later migrations without this one knowing them. A round's targets and its draw are never
-- updated or deleted (triggers): an audit must be able to recompute the draw from the
-- stored seed and inputs and find the same targets and groups that were sent out.

-- Grain: one row per township (乡镇) = inspection zone, from the lake's institution.admdvs.
CREATE TABLE inspection_zone (
    admdvs    TEXT PRIMARY KEY CHECK (trim(admdvs) <> ''),
    name      TEXT NOT NULL,
    synced_at TEXT NOT NULL  -- ISO-8601 UTC of the sync that last saw it
);

-- Grain: one row per designated institution: the zone it lies in, as of the last sync.
CREATE TABLE inspection_institution (
    fixmedins_code TEXT PRIMARY KEY CHECK (trim(fixmedins_code) <> ''),
    fixmedins_name TEXT NOT NULL,
    admdvs         TEXT NOT NULL REFERENCES inspection_zone (admdvs),
    synced_at      TEXT NOT NULL
);

-- Grain: one row per inspector (稽核员). Never deleted: rounds name them; one who leaves is
-- made inactive.
CREATE TABLE inspector (
    inspector_code TEXT PRIMARY KEY CHECK (trim(inspector_code) <> ''),
    name           TEXT NOT NULL CHECK (trim(name) <> ''),
    active         INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at     TEXT NOT NULL
);

CREATE TRIGGER inspector_no_delete BEFORE DELETE ON inspector
BEGIN
    SELECT RAISE(ABORT, 'inspectors are made inactive, never deleted: rounds name them');
END;

-- Grain: one row per inspection group (检查组). A standing group (round_name NULL) takes part
-- in every round; one formed for a single round names that round.
CREATE TABLE inspection_group (
    group_code TEXT PRIMARY KEY CHECK (trim(group_code) <> ''),
    name       TEXT NOT NULL,
    round_name TEXT,  -- NULL: standing group
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- Grain: one row per inspector in a group.
CREATE TABLE inspection_group_member (
    group_code     TEXT NOT NULL REFERENCES inspection_group (group_code),
    inspector_code TEXT NOT NULL REFERENCES inspector (inspector_code),
    PRIMARY KEY (group_code, inspector_code)
);

-- Grain: one row per declared conflict of interest (回避): this inspector may not inspect
-- this institution (relative works there, former employer, …).
CREATE TABLE inspector_conflict (
    inspector_code TEXT NOT NULL REFERENCES inspector (inspector_code),
    fixmedins_code TEXT NOT NULL CHECK (trim(fixmedins_code) <> ''),
    reason         TEXT NOT NULL CHECK (trim(reason) <> ''),
    declared_by    TEXT NOT NULL,
    declared_at    TEXT NOT NULL,
    PRIMARY KEY (inspector_code, fixmedins_code)
);

CREATE TABLE round_status (
    status   TEXT PRIMARY KEY,
    seq      INTEGER NOT NULL UNIQUE,
    label_zh TEXT NOT NULL,
    label_en TEXT NOT NULL
);

INSERT INTO round_status (status, seq, label_zh, label_en) VALUES
    ('planned',     1, '已计划', 'planned'),
    ('in_progress', 2, '检查中', 'in progress'),
    ('closed',      3, '已结束', 'closed'),
    ('cancelled',   4, '已取消', 'cancelled');

-- How a target was chosen: risk ranking, random draw (双随机), or a complaint.
CREATE TABLE target_source (
    source   TEXT PRIMARY KEY,
    seq      INTEGER NOT NULL UNIQUE,
    label_zh TEXT NOT NULL,
    label_en TEXT NOT NULL
);

INSERT INTO target_source (source, seq, label_zh, label_en) VALUES
    ('risk',      1, '重点检查', 'risk ranking'),
    ('random',    2, '随机抽查', 'random draw'),
    ('complaint', 3, '投诉举报', 'complaint');

-- Grain: one row per inspection round. kinds: JSON counts of targets per source.
CREATE TABLE inspection_round (
    round_id   INTEGER PRIMARY KEY AUTOINCREMENT,  -- the order of rounds, for rotation
    name       TEXT NOT NULL UNIQUE CHECK (trim(name) <> ''),
    kinds      TEXT NOT NULL,
    run_id     TEXT NOT NULL,  -- the scoring run whose ranking and findings it used
    status     TEXT NOT NULL DEFAULT 'planned' REFERENCES round_status (status),
    created_by TEXT NOT NULL CHECK (trim(created_by) <> ''),
    created_at TEXT NOT NULL
);

-- Grain: one row per round: the draw that chose its random targets and assigned groups.
-- inputs: canonical JSON of everything the draw read (ranking, institutions and zones,
-- groups and members, conflicts, the previous round's zones per group, complaint
-- targets); inputs_sha256 its fingerprint; parameters: top, random, capacity, algorithm;
-- result: canonical JSON of the targets and their groups, result_sha256 its fingerprint.
CREATE TABLE inspection_draw (
    round_id      INTEGER PRIMARY KEY REFERENCES inspection_round (round_id),
    seed          TEXT NOT NULL,  -- decimal: may exceed SQLite's 64-bit signed integers
    inputs        TEXT NOT NULL,
    inputs_sha256 TEXT NOT NULL,
    parameters    TEXT NOT NULL,
    result        TEXT NOT NULL,
    result_sha256 TEXT NOT NULL,
    drawn_at      TEXT NOT NULL
);

-- Grain: one row per institution visited in a round.
CREATE TABLE round_target (
    round_id       INTEGER NOT NULL REFERENCES inspection_round (round_id),
    fixmedins_code TEXT NOT NULL,
    fixmedins_name TEXT NOT NULL,
    admdvs         TEXT NOT NULL,
    source         TEXT NOT NULL REFERENCES target_source (source),
    source_ref     TEXT,  -- e.g. the complaint's number
    risk_rank      INTEGER,
    risk_score     REAL,
    amount_at_risk REAL NOT NULL,
    n_findings     INTEGER NOT NULL,
    reasons        TEXT NOT NULL,
    reasons_en     TEXT NOT NULL,
    group_code     TEXT NOT NULL REFERENCES inspection_group (group_code),
    PRIMARY KEY (round_id, fixmedins_code)
);

CREATE INDEX round_target_group ON round_target (group_code, round_id);

CREATE TRIGGER inspection_draw_no_update BEFORE UPDATE ON inspection_draw
BEGIN
    SELECT RAISE(ABORT, 'a draw is kept as drawn: plan a new round instead');
END;

CREATE TRIGGER inspection_draw_no_delete BEFORE DELETE ON inspection_draw
BEGIN
    SELECT RAISE(ABORT, 'a draw is kept as drawn: plan a new round instead');
END;

CREATE TRIGGER round_target_no_update BEFORE UPDATE ON round_target
BEGIN
    SELECT RAISE(ABORT, 'round targets are kept as drawn: plan a new round instead');
END;

CREATE TRIGGER round_target_no_delete BEFORE DELETE ON round_target
BEGIN
    SELECT RAISE(ABORT, 'round targets are kept as drawn: plan a new round instead');
END;
