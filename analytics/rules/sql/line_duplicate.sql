-- Template: a fee line billed twice (重复收费, the plainest kind): the same item, quantity and
-- unit price at the same time (to the second) in one visit, under a new serial number
-- feedetl_sn. The lines are net of refunds: a refunded or reversed copy (init_feedetl_sn)
-- is no longer there, a partly refunded one no longer the same quantity. Lines dated to the
-- day only (00:00:00) are not compared: their time cannot tell two administrations apart.
-- In each set of identical lines the first (lowest serial) is involved; every later copy is
-- violating, one hit each, its in-scope amount (inscp_amt) at risk. A self-paid copy
-- (nothing in scope) is no hit. Args: list_types (the items compared).
WITH l AS (
    SELECT line_key, fixmedins_code, psn_no, setl_id, mdtrt_id, feedetl_sn, fee_ocur_time,
           med_list_codg, coalesce(med_list_name, medins_list_name, med_list_codg) AS name,
           CAST(cnt AS DOUBLE) AS cnt, CAST(pric AS DOUBLE) AS pric,
           CAST(inscp_amt AS DOUBLE) AS inscp_amt
    FROM line
    WHERE list_type IN {{list_types}}
      AND cnt > 0 AND pric IS NOT NULL AND fee_ocur_time IS NOT NULL
      AND CAST(fee_ocur_time AS TIME) <> TIME '00:00:00'
),
-- the sets of identical lines first (few), then their order; first by a hash of the six
-- columns (one number per line to group, not six), which can only let a few unequal lines
-- through, then exactly
maybe AS (
    SELECT hash(fixmedins_code, mdtrt_id, med_list_codg, cnt, pric, fee_ocur_time) AS h
    FROM l
    GROUP BY h
    HAVING count(*) > 1
),
same AS (
    SELECT fixmedins_code, mdtrt_id, med_list_codg, cnt, pric, fee_ocur_time
    FROM l
    WHERE hash(fixmedins_code, mdtrt_id, med_list_codg, cnt, pric, fee_ocur_time)
          IN (SELECT h FROM maybe)
    GROUP BY ALL
    HAVING count(*) > 1
),
ranked AS (
    SELECT l.*,
           row_number() OVER w AS k,
           first_value(line_key) OVER w AS first_key,
           first_value(feedetl_sn) OVER w AS first_sn
    FROM l SEMI JOIN same USING (fixmedins_code, mdtrt_id, med_list_codg, cnt, pric, fee_ocur_time)
    WINDOW w AS (PARTITION BY fixmedins_code, mdtrt_id, med_list_codg, cnt, pric, fee_ocur_time
                 ORDER BY try_cast(feedetl_sn AS BIGINT) NULLS LAST, feedetl_sn)
),
hit AS (
    SELECT *,
           format('同一次就诊中「{}」({}) 于{}以相同数量{}、单价{}计费两次：明细流水号{}与{}，'
                  || '属重复收费；重复一条的医保范围内金额{}。',
                  name, med_list_codg, strftime(fee_ocur_time, '%Y-%m-%d %H:%M:%S'),
                  printf('%g', cnt), yuan(pric), first_sn, feedetl_sn, yuan(inscp_amt))
               AS evidence,
           format('"{}" ({}) was billed twice in one visit at {}, with the same quantity {} and '
                  || 'unit price {}: serial numbers {} and {}; the repeated line''s in-scope '
                  || 'amount {}.',
                  name, med_list_codg, strftime(fee_ocur_time, '%Y-%m-%d %H:%M:%S'),
                  printf('%g', cnt), yuan(pric), first_sn, feedetl_sn, yuan(inscp_amt))
               AS evidence_en
    FROM ranked
    WHERE k > 1 AND inscp_amt > 0
)
SELECT h.line_key AS hit_key, 'fee_line' AS entity_type, h.line_key AS entity_id,
       CASE WHEN r.line_key = h.line_key THEN 'violating' ELSE 'involved' END AS role,
       r.fixmedins_code, r.psn_no, r.setl_id, r.mdtrt_id, r.feedetl_sn,
       r.fee_ocur_time AS line_time,
       CASE WHEN r.line_key = h.line_key THEN round(h.inscp_amt, 2) ELSE 0 END AS amount,
       h.evidence, h.evidence_en
FROM hit h
JOIN ranked r ON r.line_key IN (h.line_key, h.first_key)
