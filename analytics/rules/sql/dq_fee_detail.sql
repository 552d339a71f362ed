-- Template: fee lines that passed ingest but do not hold together: the net lines of a
-- settlement not adding up to its medfee_sumamt, a line's in-scope amount above its
-- amount, cnt × pric not equal to the amount, a line of another person than the
-- settlement's. Params: tolerance (¥). One hit per settlement: each faulty line and, for a
-- total that does not add up, the settlement itself (feedetl_sn empty) are violating.
-- Amount at risk: the in-scope amount above a line's amount (claimed beyond what was
-- charged); 0 for the other problems.
WITH sums AS (
    SELECT fixmedins_code, setl_id, sum(det_item_fee_sumamt) AS det, count(*) AS n
    FROM line GROUP BY ALL
),
total AS (
    SELECT v.visit_key, v.fixmedins_code, v.psn_no, v.setl_id, v.mdtrt_id,
           NULL AS feedetl_sn, v.begntime AS line_time, 0.0 AS amount,
           format('明细合计{}（{}条）与结算医疗费总额{}相差{}', yuan(coalesce(s.det, 0)),
                  coalesce(s.n, 0), yuan(v.medfee_sumamt),
                  yuan(abs(coalesce(s.det, 0) - v.medfee_sumamt))) AS zh,
           format('lines sum to {} ({} lines) against the settlement total {}, {} apart',
                  yuan(coalesce(s.det, 0)), coalesce(s.n, 0), yuan(v.medfee_sumamt),
                  yuan(abs(coalesce(s.det, 0) - v.medfee_sumamt))) AS en
    FROM visit v
    LEFT JOIN sums s USING (fixmedins_code, setl_id)
    WHERE abs(coalesce(s.det, 0) - v.medfee_sumamt) > {{tolerance}}
),
bad_line AS (
    SELECT l.fixmedins_code || '|' || l.setl_id AS visit_key, l.fixmedins_code,
           v.psn_no, l.setl_id, l.mdtrt_id, l.feedetl_sn, l.fee_ocur_time AS line_time,
           greatest(l.inscp_amt - l.det_item_fee_sumamt, 0) AS amount,
           format('明细{}「{}」：{}', l.feedetl_sn, coalesce(l.med_list_name, l.medins_list_name, l.med_list_codg),
                  array_to_string(list_filter([
                      CASE WHEN l.inscp_amt > l.det_item_fee_sumamt + 0.005
                           THEN '医保范围内金额' || yuan(l.inscp_amt) || '大于明细金额'
                                || yuan(l.det_item_fee_sumamt) END,
                      CASE WHEN abs(l.cnt * l.pric - l.det_item_fee_sumamt) > {{tolerance}}
                           THEN '数量' || l.cnt || '×单价' || yuan(l.pric) || '≠明细金额'
                                || yuan(l.det_item_fee_sumamt) END,
                      CASE WHEN l.psn_no IS DISTINCT FROM v.psn_no
                           THEN '人员编号' || coalesce(l.psn_no, '空') || '与结算人员' || v.psn_no || '不一致' END
                  ], lambda x: x IS NOT NULL), '，')) AS zh,
           format('line {} "{}": {}', l.feedetl_sn, coalesce(l.med_list_name, l.medins_list_name, l.med_list_codg),
                  array_to_string(list_filter([
                      CASE WHEN l.inscp_amt > l.det_item_fee_sumamt + 0.005
                           THEN 'in-scope ' || yuan(l.inscp_amt) || ' exceeds the amount '
                                || yuan(l.det_item_fee_sumamt) END,
                      CASE WHEN abs(l.cnt * l.pric - l.det_item_fee_sumamt) > {{tolerance}}
                           THEN 'quantity ' || l.cnt || ' × price ' || yuan(l.pric) || ' ≠ amount '
                                || yuan(l.det_item_fee_sumamt) END,
                      CASE WHEN l.psn_no IS DISTINCT FROM v.psn_no
                           THEN 'person ' || coalesce(l.psn_no, 'null') || ' differs from the settlement''s ' || v.psn_no END
                  ], lambda x: x IS NOT NULL), ', ')) AS en
    FROM line l
    JOIN visit v ON v.fixmedins_code = l.fixmedins_code AND v.setl_id = l.setl_id
    WHERE l.inscp_amt > l.det_item_fee_sumamt + 0.005
       OR abs(l.cnt * l.pric - l.det_item_fee_sumamt) > {{tolerance}}
       OR l.psn_no IS DISTINCT FROM v.psn_no
),
rows AS (
    SELECT * FROM total
    UNION ALL
    SELECT * FROM bad_line
),
ev AS (
    SELECT visit_key,
           string_agg(zh, '；' ORDER BY feedetl_sn NULLS FIRST) AS zh,
           string_agg(en, '; ' ORDER BY feedetl_sn NULLS FIRST) AS en
    FROM rows GROUP BY visit_key
)
SELECT r.visit_key AS hit_key,
       'settlement' AS entity_type,
       r.visit_key AS entity_id,
       'violating' AS role,
       r.fixmedins_code, r.psn_no, r.setl_id, r.mdtrt_id, r.feedetl_sn,
       r.line_time,
       r.amount,
       format('结算明细信息异常（结算{}）：{}。', r.setl_id, e.zh) AS evidence,
       format('Fee detail anomaly (settlement {}): {}.', r.setl_id, e.en) AS evidence_en
FROM rows r
JOIN ev e USING (visit_key)
