-- Template: fewer people declared than the annual statements employ (申报人数少于财务报表
-- 职工人数). Per employer and year: the statements' headcount (emp_cnt) exceeds the average
-- number of people declared a month by at least min_missing people and min_share_missing
-- of the headcount. Each declared month is a violating line, amount (emp_cnt − people
-- declared that month) × the statements' wage per head and month × the contribution rate.
WITH per_month AS (
    SELECT emp_no, year, ym, any_value(emp_name) AS emp_name, count(DISTINCT psn_no) AS n
    FROM contrib
    WHERE list_contains({{insutypes}}, insutype)
    GROUP BY emp_no, year, ym
),
per_year AS (
    SELECT emp_no, year, avg(n) AS declared FROM per_month GROUP BY emp_no, year
),
short AS (
    SELECT y.*, s.emp_cnt, CAST(s.wag_sumamt AS DOUBLE) AS payroll,
           CAST(s.wag_sumamt AS DOUBLE) / 12 / s.emp_cnt AS wage_per_head
    FROM per_year y
    JOIN emp_fin_stmt s ON s.emp_no = y.emp_no AND s.year = y.year
    WHERE s.emp_cnt > 0 AND s.emp_cnt - y.declared >= {{min_missing}}
      AND s.emp_cnt - y.declared >= s.emp_cnt * {{min_share_missing}}
),
rows AS (
    SELECT s.*, m.ym, m.n, m.emp_name,
           greatest(s.emp_cnt - m.n, 0) * s.wage_per_head * {{contribution_rate}} AS at_stake
    FROM short s
    JOIN per_month m ON m.emp_no = s.emp_no AND m.year = s.year
),
hit AS (SELECT *, sum(at_stake) OVER (PARTITION BY emp_no, year) AS total FROM rows)
SELECT 'headcount|' || emp_no || '|' || year AS hit_key,
       'employer' AS entity_type,
       emp_no AS entity_id,
       'violating' AS role,
       CAST(NULL AS VARCHAR) AS fixmedins_code, CAST(NULL AS VARCHAR) AS psn_no,
       CAST(NULL AS VARCHAR) AS setl_id, CAST(NULL AS VARCHAR) AS mdtrt_id,
       CAST(NULL AS VARCHAR) AS feedetl_sn,
       CAST(ym AS TIMESTAMP) AS line_time,
       at_stake AS amount,
       format('{}（{}）{}年年度财务报表职工{}人、工资总额{}，而每月申报参保平均仅{}人，少报约{}人；'
              || '按报表人均月工资{}计少缴费款{}（按费率{}%计）。',
              emp_name, emp_no, year, emp_cnt, yuan(payroll), printf('%.1f', declared),
              printf('%.1f', emp_cnt - declared), yuan(wage_per_head), yuan(total),
              printf('%g', {{contribution_rate}} * 100)) AS evidence,
       format('{} ({}) employs {} people with a payroll of {} in {} by its statements but '
              || 'declared {} a month on average, about {} fewer; contribution short at {} '
              || 'per head and month: {} (at {}%).',
              emp_name, emp_no, emp_cnt, yuan(payroll), year, printf('%.1f', declared),
              printf('%.1f', emp_cnt - declared), yuan(wage_per_head), yuan(total),
              printf('%g', {{contribution_rate}} * 100)) AS evidence_en,
       (emp_cnt - declared) / emp_cnt AS score
FROM hit
