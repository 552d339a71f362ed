-- Template: a declared contribution base below the statutory floor (缴费基数低于下限).
-- The floor of a year is floor_share × that year's average monthly wage (avg_wage); a
-- year without an average wage is not judged, and the run's manifest says so (data_gaps,
-- hrss_fraud.engine.enrolment). One hit per employee, employer and year; each month below
-- the floor is a violating line, amount (floor − base) × the contribution rate: the
-- contribution not paid.
WITH c AS (
    SELECT *, round(avg_wage * {{floor_share}}, 2) AS floor
    FROM contrib
    WHERE list_contains({{insutypes}}, insutype) AND avg_wage IS NOT NULL
),
below AS (
    SELECT *, (floor - base) * {{contribution_rate}} AS at_stake
    FROM c
    WHERE base < floor - 0.005
),
hit AS (
    SELECT *, count(*) OVER w AS n, sum(at_stake) OVER w AS total, min(base) OVER w AS lowest
    FROM below
    WINDOW w AS (PARTITION BY emp_no, psn_no, insutype, year)
)
SELECT 'floor|' || emp_no || '|' || psn_no || '|' || insutype || '|' || year AS hit_key,
       'person' AS entity_type,
       emp_no || '|' || psn_no AS entity_id,
       'violating' AS role,
       unnest(no_claim_keys()), psn_no,
       CAST(ym AS TIMESTAMP) AS line_time,
       at_stake AS amount,
       format('{}（{}）为职工{}申报的{}年缴费基数有{}个月低于下限{}（职工月平均工资{}的{}%），'
              || '最低{}；少缴费款{}（按费率{}%计）。',
              emp_name, emp_no, psn_no, year, n, yuan(floor), yuan(avg_wage),
              printf('%g', {{floor_share}} * 100), yuan(lowest), yuan(total),
              printf('%g', {{contribution_rate}} * 100)) AS evidence,
       format('{} ({}) declared a base below the floor {} ({}% of the average monthly wage {}) '
              || 'for employee {} in {} month(s) of {}, lowest {}; contribution short: {} '
              || '(at {}%).',
              emp_name, emp_no, yuan(floor), printf('%g', {{floor_share}} * 100),
              yuan(avg_wage), psn_no, n, year, yuan(lowest), yuan(total),
              printf('%g', {{contribution_rate}} * 100)) AS evidence_en,
       CAST(n AS DOUBLE) AS score
FROM hit
