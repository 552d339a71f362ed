-- 0009: violation notices drafted item by item from confirmed leads, and drafts editable
-- until they are issued (issue 18).
--
-- notice_item.framework: the national framework code(s) of the item's rule (规则编码, e.g.
-- GZ10000301004000; several joined by 、), empty for an item typed by hand.
--
-- A draft's items, their handling and its leads may be replaced while it is a draft; once
-- the notice is issued they are fixed, as its content_json already is (0004's trigger):
-- these triggers refuse any insert, update or delete of them for a notice that is not a
-- draft.

ALTER TABLE notice_item ADD COLUMN framework TEXT;

CREATE TRIGGER notice_item_insert_fixed BEFORE INSERT ON notice_item
WHEN (SELECT status FROM notice WHERE notice_id = NEW.notice_id) <> 'draft'
BEGIN
    SELECT RAISE(ABORT, 'an issued notice is fixed: its items no longer change');
END;

CREATE TRIGGER notice_item_update_fixed BEFORE UPDATE ON notice_item
WHEN (SELECT status FROM notice WHERE notice_id = OLD.notice_id) <> 'draft'
BEGIN
    SELECT RAISE(ABORT, 'an issued notice is fixed: its items no longer change');
END;

CREATE TRIGGER notice_item_delete_fixed BEFORE DELETE ON notice_item
WHEN (SELECT status FROM notice WHERE notice_id = OLD.notice_id) <> 'draft'
BEGIN
    SELECT RAISE(ABORT, 'an issued notice is fixed: its items no longer change');
END;

CREATE TRIGGER notice_handling_insert_fixed BEFORE INSERT ON notice_handling
WHEN (SELECT status FROM notice WHERE notice_id = NEW.notice_id) <> 'draft'
BEGIN
    SELECT RAISE(ABORT, 'an issued notice is fixed: its handling no longer changes');
END;

CREATE TRIGGER notice_handling_update_fixed BEFORE UPDATE ON notice_handling
WHEN (SELECT status FROM notice WHERE notice_id = OLD.notice_id) <> 'draft'
BEGIN
    SELECT RAISE(ABORT, 'an issued notice is fixed: its handling no longer changes');
END;

CREATE TRIGGER notice_handling_delete_fixed BEFORE DELETE ON notice_handling
WHEN (SELECT status FROM notice WHERE notice_id = OLD.notice_id) <> 'draft'
BEGIN
    SELECT RAISE(ABORT, 'an issued notice is fixed: its handling no longer changes');
END;

CREATE TRIGGER notice_finding_insert_fixed BEFORE INSERT ON notice_finding
WHEN (SELECT status FROM notice WHERE notice_id = NEW.notice_id) <> 'draft'
BEGIN
    SELECT RAISE(ABORT, 'an issued notice is fixed: its leads no longer change');
END;

CREATE TRIGGER notice_finding_delete_fixed BEFORE DELETE ON notice_finding
WHEN (SELECT status FROM notice WHERE notice_id = OLD.notice_id) <> 'draft'
BEGIN
    SELECT RAISE(ABORT, 'an issued notice is fixed: its leads no longer change');
END;
