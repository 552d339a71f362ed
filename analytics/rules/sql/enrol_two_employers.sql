-- Template: one person declared by two or more employers for the same month and insurance
-- type (同一月份在两个单位重复参保). A month in which an interruption, cancellation or
-- transfer of that person takes effect is a handover, not judged. One hit per person,
-- insurance type and year; in each month the employer with the highest base is involved,
-- the others are violating, amount their base × the contribution rate (contribution
-- collected twice, and a personal account credited twice). Each row's entity is its
-- employer and person, so the hit names the second employer (its first violating row).
WITH c AS (
    SELECT * FROM contrib WHERE list_contains({{insutypes}}, insutype)
),
twice AS (
    SELECT psn_no, insutype, ym FROM c GROUP BY ALL HAVING count(DISTINCT emp_no) > 1
),
handover AS (
    SELECT DISTINCT psn_no, CAST(date_trunc('month', evt_date) AS DATE) AS ym
    FROM insu_event WHERE evt_type IN ('21', '31', '41')
),
judged AS (SELECT * FROM twice ANTI JOIN handover USING (psn_no, ym)),
rows AS (
    SELECT c.*,
           row_number() OVER (PARTITION BY c.psn_no, c.insutype, c.ym ORDER BY c.base DESC,
                              c.emp_no) AS rk
    FROM c SEMI JOIN judged USING (psn_no, insutype, ym)
),
hit AS (
    SELECT *,
           CASE WHEN rk > 1 THEN base * {{contribution_rate}} ELSE 0 END AS at_stake,
           count(DISTINCT ym) OVER k AS n_months,
           list(DISTINCT [emp_no, emp_name]) OVER k AS emps,
           sum(CASE WHEN rk > 1 THEN base * {{contribution_rate}} ELSE 0 END) OVER k AS total
    FROM rows
    WINDOW k AS (PARTITION BY psn_no, insutype, year)
),
named AS (
    SELECT *,
           list_transform(list_sort(emps), lambda x: x[2] || '（' || x[1] || '）') AS names_zh,
           list_transform(list_sort(emps), lambda x: x[2] || ' (' || x[1] || ')') AS names_en
    FROM hit
)
SELECT 'two_emp|' || psn_no || '|' || insutype || '|' || year AS hit_key,
       'person' AS entity_type,
       emp_no || '|' || psn_no AS entity_id,
       CASE WHEN rk > 1 THEN 'violating' ELSE 'involved' END AS role,
       unnest(no_claim_keys()), psn_no,
       CAST(ym AS TIMESTAMP) AS line_time,
       at_stake AS amount,
       format('参保人{}{}年有{}个月同时由{}申报参保缴费；重复部分涉及费款{}（按费率{}%计）。',
              psn_no, year, n_months, array_to_string(names_zh, '、'),
              yuan(total),
              printf('%g', {{contribution_rate}} * 100)) AS evidence,
       format('Insured person {} was declared by {} at once in {} month(s) of {}; contribution of the '
              || 'second enrolment: {} (at {}%).',
              psn_no, array_to_string(names_en, ', '), n_months, year,
              yuan(total),
              printf('%g', {{contribution_rate}} * 100)) AS evidence_en,
       CAST(n_months AS DOUBLE) AS score
FROM named
