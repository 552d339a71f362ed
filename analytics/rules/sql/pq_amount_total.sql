-- Template: the reimbursed (in-scope) total of an item per person and calendar year over
-- its cap (max_amt_total). Lines in time order; those that take the running total over the
-- cap are violating, the earlier ones involved.
-- Args: list_types, kind_zh / kind_en. Param: tolerance (¥ over the cap tolerated).
-- Amount at risk: the excess, Σinscp_amt − cap, on the lines that cross the cap.
WITH b AS (
    SELECT line_key, fixmedins_code, psn_no, setl_id, mdtrt_id, feedetl_sn, fee_ocur_time,
           med_list_codg, med_list_name, cnt, inscp_amt,
           CAST(max_amt_total AS DOUBLE) AS cap,
           year(fee_ocur_time) AS yr
    FROM line
    WHERE list_type IN {{list_types}} AND max_amt_total IS NOT NULL AND inscp_amt > 0
),
c AS (
    SELECT *,
           sum(inscp_amt) OVER (PARTITION BY psn_no, med_list_codg, yr
                                ORDER BY fee_ocur_time, line_key ROWS UNBOUNDED PRECEDING)
               AS run_total,
           sum(inscp_amt) OVER (PARTITION BY psn_no, med_list_codg, yr) AS y_total,
           sum(cnt) OVER (PARTITION BY psn_no, med_list_codg, yr) AS y_cnt,
           count(*) OVER (PARTITION BY psn_no, med_list_codg, yr) AS y_lines
    FROM b
)
SELECT psn_no || '|' || med_list_codg || '|' || CAST(yr AS VARCHAR) AS hit_key,
       'person' AS entity_type, psn_no AS entity_id,
       CASE WHEN run_total > cap THEN 'violating' ELSE 'involved' END AS role,
       fixmedins_code, psn_no, setl_id, mdtrt_id, feedetl_sn,
       fee_ocur_time AS line_time,
       round(greatest(0, least(inscp_amt, run_total - cap)), 4) AS amount,
       format('{}「{}」({}) 每人每年医保限额{}；患者{}年共{}条明细、数量{}，'
              || '医保范围内金额合计{}，超出限额{}。',
              {{kind_zh}}, med_list_name, med_list_codg, yuan(cap), yr, y_lines,
              printf('%g', y_cnt), yuan(y_total), yuan(y_total - cap)) AS evidence,
       format('{} "{}" ({}) is reimbursed up to {} per person and year; in {} the patient '
              || 'had {} lines, quantity {}, in-scope {} in total, {} over the cap.',
              {{kind_en}}, med_list_name, med_list_codg, yuan(cap), yr, y_lines,
              printf('%g', y_cnt), yuan(y_total), yuan(y_total - cap)) AS evidence_en,
       round(y_total / cap, 3) AS score
FROM c
WHERE y_total > cap + {{tolerance}}
