-- Template: forbidden pair (kb_knowledge_pair of the given pair_types). item_b billed where
-- item_a is billed in the pair's scope: `visit` = the same visit (mdtrt_id); `day` = the same
-- person, the same calendar day, at the same institution, across visits. Across visits the
-- admission and discharge days of a stay do not count: the outpatient visit that leads to an
-- admission (门诊转住院) or follows a discharge is billed on its own.
-- One hit per item_a and scope unit (the visit, or the person-day): the item_b lines it
-- includes or forbids are violating (amount at risk = their inscp_amt, the charges that should
-- not have been made); the item_a lines are involved. An item_b line forbidden by several
-- items counts once, under the first of them (by code).
-- Args: pair_types (list), kind_zh / kind_en (what the pair means, e.g. 重复收费),
-- item_zh / item_en (项目 / 药品 / 饮片).
WITH p AS (
    SELECT item_a, item_b, scope, coalesce(note, '') AS note
    FROM kb_knowledge_pair
    WHERE pair_type IN {{pair_types}}
),
l AS (
    SELECT line_key, fixmedins_code, psn_no, setl_id, mdtrt_id, feedetl_sn, fee_ocur_time,
           med_list_codg, coalesce(med_list_name, medins_list_name) AS name, inscp_amt,
           day_of(fee_ocur_time) AS d,
           setting = 'ip' AND day_of(fee_ocur_time) IN (day_of(begntime), day_of(endtime))
               AS stay_edge
    FROM line
    WHERE med_list_codg IN (SELECT item_a FROM p UNION SELECT item_b FROM p)
),
b AS (
    SELECT l.*, p.item_a, p.scope, p.note
    FROM l JOIN p ON p.item_b = l.med_list_codg
    WHERE l.inscp_amt > 0
),
m AS (
    -- every (item_b line, item_a line) in the pair's scope, with the hit it belongs to
    SELECT b.line_key AS b_key, b.item_a, b.note,
           CASE WHEN b.scope = 'visit' THEN b.fixmedins_code || '|' || b.mdtrt_id
                ELSE b.fixmedins_code || '|' || b.psn_no || '|' || CAST(b.d AS VARCHAR) END
               || '|' || b.item_a AS hit_key,
           b.scope,
           a.line_key AS a_key, a.fixmedins_code AS a_fixmedins_code, a.psn_no AS a_psn_no,
           a.setl_id AS a_setl_id, a.mdtrt_id AS a_mdtrt_id, a.feedetl_sn AS a_feedetl_sn,
           a.fee_ocur_time AS a_time, a.name AS a_name
    FROM b
    JOIN l AS a
      ON a.fixmedins_code = b.fixmedins_code AND a.psn_no = b.psn_no
     AND a.med_list_codg = b.item_a
    WHERE (b.scope = 'visit' AND a.mdtrt_id = b.mdtrt_id)
       OR (b.scope = 'day' AND a.d = b.d
           AND (a.mdtrt_id = b.mdtrt_id OR NOT (a.stay_edge OR b.stay_edge)))
),
own AS (
    -- each item_b line in one hit: the first forbidding item (then the first hit key)
    SELECT b_key, arg_min(hit_key, (item_a, hit_key)) AS hit_key FROM m GROUP BY b_key
),
v AS (
    SELECT DISTINCT own.hit_key, b.line_key, b.fixmedins_code, b.psn_no, b.setl_id, b.mdtrt_id,
           b.feedetl_sn, b.fee_ocur_time, b.med_list_codg, b.name, b.inscp_amt
    FROM own JOIN b ON b.line_key = own.b_key
),
inv AS (
    SELECT DISTINCT m.hit_key, m.scope, m.note, m.item_a, m.a_key, m.a_fixmedins_code,
           m.a_psn_no, m.a_setl_id, m.a_mdtrt_id, m.a_feedetl_sn, m.a_time, m.a_name
    FROM m JOIN own USING (hit_key)
),
ia AS (
    SELECT hit_key, any_value(scope) AS scope, any_value(item_a) AS item_a,
           any_value(a_name) AS a_name, string_agg(DISTINCT nullif(note, ''), '；' ORDER BY nullif(note, '')) AS notes
    FROM inv GROUP BY hit_key
),
vb AS (
    SELECT hit_key,
           string_agg(format('「{}」({})', name, med_list_codg), '、'
                      ORDER BY med_list_codg, fee_ocur_time, line_key) AS b_zh,
           string_agg(format('"{}" ({})', name, med_list_codg), ', '
                      ORDER BY med_list_codg, fee_ocur_time, line_key) AS b_en,
           sum(inscp_amt) AS total
    FROM v GROUP BY hit_key
),
ev AS (
    SELECT hit_key,
           format('{}{}与同{}的{}「{}」({})构成{}（{}），不应另行收费；医保范围内金额合计{}。',
                  {{item_zh}}, b_zh,
                  CASE WHEN scope = 'visit' THEN '次就诊' ELSE '日同机构' END,
                  {{item_zh}}, a_name, item_a, {{kind_zh}}, coalesce(notes, {{kind_zh}}),
                  yuan(total)) AS evidence,
           format('{} {} billed with {} "{}" ({}) in the same {}: {}; it should not be '
                  || 'charged; in-scope amount {}.',
                  {{item_en}}, b_en, lower({{item_en}}), a_name, item_a,
                  CASE WHEN scope = 'visit' THEN 'visit' ELSE 'day at this institution' END,
                  {{kind_en}}, yuan(total)) AS evidence_en
    FROM vb JOIN ia USING (hit_key)
)
SELECT ev.hit_key, 'fee_line' AS entity_type, v.line_key AS entity_id, 'violating' AS role,
       v.fixmedins_code, v.psn_no, v.setl_id, v.mdtrt_id, v.feedetl_sn,
       v.fee_ocur_time AS line_time, v.inscp_amt AS amount, ev.evidence, ev.evidence_en
FROM ev JOIN v USING (hit_key)
UNION ALL
SELECT DISTINCT ev.hit_key, 'fee_line', NULL, 'involved',
       i.a_fixmedins_code, i.a_psn_no, i.a_setl_id, i.a_mdtrt_id, i.a_feedetl_sn,
       i.a_time, 0, ev.evidence, ev.evidence_en
FROM ev JOIN inv AS i USING (hit_key)
