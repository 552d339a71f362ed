-- Template: claims not uploaded in real time. A settlement is late when its record was
-- created (crte_time) more than `days` after the stay's final settlement (a mid-stay
-- settlement's list is filed with the stay's), or when one of its fee lines was created more
-- than `days` after the fee occurred. Params: days. One hit per settlement; amount at
-- risk 0 (a reporting failure, not money paid wrongly).
WITH v AS (
    SELECT visit_key, fixmedins_code, psn_no, setl_id, mdtrt_id, begntime, setl_time, crte_time,
           max(setl_time) OVER (PARTITION BY fixmedins_code, mdtrt_id) AS stay_setl_time
    FROM visit
),
l AS (
    SELECT fixmedins_code, setl_id,
           count(*) FILTER (WHERE date_diff('second', fee_ocur_time, crte_time) > {{days}} * 86400) AS n_late,
           count(*) AS n,
           max(date_diff('second', fee_ocur_time, crte_time)) AS max_s
    FROM line
    GROUP BY ALL
),
late AS (
    SELECT v.*, coalesce(l.n_late, 0) AS n_late, coalesce(l.n, 0) AS n, l.max_s,
           date_diff('second', v.stay_setl_time, v.crte_time) AS setl_s
    FROM v LEFT JOIN l USING (fixmedins_code, setl_id)
    WHERE date_diff('second', v.stay_setl_time, v.crte_time) > {{days}} * 86400
       OR coalesce(l.n_late, 0) > 0
)
SELECT visit_key AS hit_key,
       'settlement' AS entity_type,
       visit_key AS entity_id,
       'violating' AS role,
       fixmedins_code, psn_no, setl_id, mdtrt_id, NULL AS feedetl_sn,
       setl_time AS line_time,
       0.0 AS amount,
       format('结算{}于{}结算，{}上传（迟{}天）；{}/{}条费用明细在发生后超过{}天才上传，最迟{}天；要求{}天内上传。',
              setl_id, strftime(setl_time, '%Y-%m-%d %H:%M'), strftime(crte_time, '%Y-%m-%d %H:%M'),
              round(setl_s / 86400.0, 1), n_late, n, {{days}},
              coalesce(CAST(round(max_s / 86400.0, 1) AS VARCHAR), '-'), {{days}}) AS evidence,
       format('Settlement {} settled {}, uploaded {} ({} days later); {} of {} fee lines uploaded more than {} days after they occurred, the latest {} days; the limit is {} days.',
              setl_id, strftime(setl_time, '%Y-%m-%d %H:%M'), strftime(crte_time, '%Y-%m-%d %H:%M'),
              round(setl_s / 86400.0, 1), n_late, n, {{days}},
              coalesce(CAST(round(max_s / 86400.0, 1) AS VARCHAR), '-'), {{days}}) AS evidence_en
FROM late
