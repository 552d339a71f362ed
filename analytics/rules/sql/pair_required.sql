-- Template: required partner (kb_knowledge_pair of the given pair_types). item_a needs ONE
-- of its item_b rows in the pair's scope (`visit`: the same visit; `day`: the same person,
-- calendar day and institution) and none was billed. One hit per item_a line: violating,
-- amount at risk = its inscp_amt (the drug or consumable has no service to go with it).
-- Args: pair_types (list), kind_zh / kind_en (what the partner is, e.g. 给药或治疗项目),
-- item_zh / item_en (药品 / 耗材).
WITH p AS (
    SELECT item_a, item_b, scope
    FROM kb_knowledge_pair
    WHERE pair_type IN {{pair_types}}
),
a AS (
    SELECT line_key, fixmedins_code, psn_no, setl_id, mdtrt_id, feedetl_sn, fee_ocur_time,
           med_list_codg, coalesce(med_list_name, medins_list_name) AS name, inscp_amt
    FROM line
    WHERE med_list_codg IN (SELECT item_a FROM p) AND inscp_amt > 0
),
bl AS (
    SELECT fixmedins_code, psn_no, mdtrt_id, med_list_codg, day_of(fee_ocur_time) AS d
    FROM line
    WHERE med_list_codg IN (SELECT item_b FROM p)
),
met AS (
    -- item_a lines with at least one partner in scope
    SELECT DISTINCT a.line_key
    FROM a
    JOIN p ON p.item_a = a.med_list_codg
    JOIN bl ON bl.fixmedins_code = a.fixmedins_code AND bl.psn_no = a.psn_no
           AND bl.med_list_codg = p.item_b
    WHERE (p.scope = 'visit' AND bl.mdtrt_id = a.mdtrt_id)
       OR (p.scope = 'day' AND bl.d = day_of(a.fee_ocur_time))
),
partners AS (
    SELECT p.item_a,
           bool_or(p.scope = 'visit') AS by_visit,
           string_agg(format('「{}」({})', coalesce(c.med_list_name, p.item_b), p.item_b), '、'
                      ORDER BY p.item_b) AS need_zh,
           string_agg(format('"{}" ({})', coalesce(c.med_list_name, p.item_b), p.item_b), ', '
                      ORDER BY p.item_b) AS need_en
    FROM p LEFT JOIN kb_catalogue c ON c.med_list_codg = p.item_b
    GROUP BY p.item_a
)
SELECT a.line_key AS hit_key, 'fee_line' AS entity_type, a.line_key AS entity_id,
       'violating' AS role, a.fixmedins_code, a.psn_no, a.setl_id, a.mdtrt_id, a.feedetl_sn,
       a.fee_ocur_time AS line_time, a.inscp_amt AS amount,
       format('{}「{}」({})须有配套{}（{}之一）同{}收取，本{}未见任何一项；医保范围内金额{}。',
              {{item_zh}}, a.name, a.med_list_codg, {{kind_zh}}, n.need_zh,
              CASE WHEN n.by_visit THEN '次就诊' ELSE '日' END,
              CASE WHEN n.by_visit THEN '次就诊' ELSE '日' END,
              yuan(a.inscp_amt)) AS evidence,
       format('{} "{}" ({}) needs one of {} ({}) in the same {}; none was billed; in-scope {}.',
              {{item_en}}, a.name, a.med_list_codg, n.need_en, {{kind_en}},
              CASE WHEN n.by_visit THEN 'visit' ELSE 'day' END, yuan(a.inscp_amt)) AS evidence_en
FROM a
JOIN partners n ON n.item_a = a.med_list_codg
WHERE a.line_key NOT IN (SELECT line_key FROM met)
