-- Template: the reimbursed (in-scope) total of an item per person and calendar year over
-- its cap (max_amt_total). Lines in time order; those that take the running total over the
-- cap are violating, the earlier ones involved.
-- Precedence: the quantity caps (max_cnt_line > max_cnt_day > max_cnt_visit, as in
-- pq_quantity_cap.sql, which the quantity and frequency rules report) claim first: the
-- total counts each line's in-scope amount net of its units over those caps, so no yuan is
-- at risk twice.
-- Args: list_types, kind_zh / kind_en. Param: tolerance (¥ over the cap tolerated).
-- Amount at risk: the excess, Σ net in-scope − cap, on the lines that cross the cap.
WITH a AS (
    SELECT line_key, fixmedins_code, psn_no, setl_id, mdtrt_id, feedetl_sn, fee_ocur_time,
           med_list_codg, med_list_name, CAST(cnt AS DOUBLE) AS cnt,
           CAST(inscp_amt AS DOUBLE) AS inscp_amt,
           CAST(max_amt_total AS DOUBLE) AS cap,
           year(fee_ocur_time) AS yr, day_of(fee_ocur_time) AS d,
           CAST(max_cnt_day AS DOUBLE) AS cap_day, CAST(max_cnt_visit AS DOUBLE) AS cap_visit,
           greatest(0, cnt - coalesce(CAST(max_cnt_line AS DOUBLE), 1e18)) AS e1
    FROM line
    WHERE list_type IN {{list_types}} AND max_amt_total IS NOT NULL AND cnt > 0
),
a2 AS (
    SELECT *,
           CASE WHEN cap_day IS NOT NULL
                     AND sum(cnt) OVER w - sum(e1) OVER w - cap_day > 1e-9
                THEN (sum(cnt) OVER w - sum(e1) OVER w - cap_day) * (cnt - e1)
                     / (sum(cnt) OVER w - sum(e1) OVER w)
                ELSE 0 END AS e2
    FROM a
    WINDOW w AS (PARTITION BY psn_no, med_list_codg, d)
),
a3 AS (
    SELECT *,
           CASE WHEN cap_visit IS NOT NULL
                     AND sum(cnt) OVER w - sum(e1 + e2) OVER w - cap_visit > 1e-9
                THEN (sum(cnt) OVER w - sum(e1 + e2) OVER w - cap_visit) * (cnt - e1 - e2)
                     / (sum(cnt) OVER w - sum(e1 + e2) OVER w)
                ELSE 0 END AS e3
    FROM a2
    WINDOW w AS (PARTITION BY fixmedins_code, mdtrt_id, med_list_codg)
),
b AS (
    SELECT * EXCLUDE (inscp_amt), inscp_amt AS gross_inscp,
           inscp_amt * (cnt - e1 - e2 - e3) / cnt AS inscp_amt
    FROM a3
    WHERE inscp_amt > 0
),
c AS (
    SELECT *,
           sum(inscp_amt) OVER (PARTITION BY psn_no, med_list_codg, yr
                                ORDER BY fee_ocur_time, line_key ROWS UNBOUNDED PRECEDING)
               AS run_total,
           sum(inscp_amt) OVER (PARTITION BY psn_no, med_list_codg, yr) AS y_total,
           sum(cnt) OVER (PARTITION BY psn_no, med_list_codg, yr) AS y_cnt,
           sum(gross_inscp - inscp_amt) OVER (PARTITION BY psn_no, med_list_codg, yr) AS y_qty,
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
              || '医保范围内金额合计{}{}，超出限额{}。',
              {{kind_zh}}, med_list_name, med_list_codg, yuan(cap), yr, y_lines,
              printf('%g', y_cnt), yuan(y_total),
              CASE WHEN y_qty > 0.005 THEN '（已扣除数量超限部分' || yuan(y_qty) || '）' ELSE '' END,
              yuan(y_total - cap)) AS evidence,
       format('{} "{}" ({}) is reimbursed up to {} per person and year; in {} the patient '
              || 'had {} lines, quantity {}, in-scope {} in total{}, {} over the cap.',
              {{kind_en}}, med_list_name, med_list_codg, yuan(cap), yr, y_lines,
              printf('%g', y_cnt), yuan(y_total),
              CASE WHEN y_qty > 0.005
                   THEN ' (net of ' || yuan(y_qty) || ' over the quantity caps)' ELSE '' END,
              yuan(y_total - cap)) AS evidence_en,
       round(y_total / cap, 3) AS score
FROM c
WHERE y_total > cap + {{tolerance}}
