-- Template: fewer people declared than the annual statements employ (申报人数少于财务报表
-- 职工人数). Per employer and year: the statements' headcount (emp_cnt) exceeds the average
-- number of people declared a month by at least min_missing people and min_share_missing
-- of the headcount (a month without any filing of the employer counts 0). Each month is
-- a violating line, amount (emp_cnt − people declared that month) × the statements' wage
-- per head and month × the contribution rate.
WITH per_month AS (
    SELECT emp_no, year, ym, count(DISTINCT psn_no) AS n
    FROM contrib
    WHERE list_contains({{insutypes}}, insutype)
    GROUP BY emp_no, year, ym
),
lake_months AS (SELECT DISTINCT year, ym FROM per_month),
grid AS (
    -- every month the lake holds filings for, for each employer with statements of that
    -- year: an employer declaring nobody at all counts 0 a month
    SELECT s.emp_no, s.year, m.ym, coalesce(p.n, 0) AS n, s.emp_cnt,
           CAST(s.wag_sumamt AS DOUBLE) AS payroll,
           CAST(s.wag_sumamt AS DOUBLE) / 12 / s.emp_cnt AS wage_per_head
    FROM emp_fin_stmt s
    JOIN lake_months m ON m.year = s.year
    LEFT JOIN per_month p ON p.emp_no = s.emp_no AND p.ym = m.ym
    WHERE s.emp_cnt > 0
),
rows AS (
    SELECT g.*, coalesce(e.emp_name, g.emp_no) AS emp_name,
           avg(g.n) OVER (PARTITION BY g.emp_no, g.year) AS declared,
           greatest(g.emp_cnt - g.n, 0) * g.wage_per_head * {{contribution_rate}} AS at_stake
    FROM grid g
    LEFT JOIN employer e ON e.emp_no = g.emp_no
    QUALIFY g.emp_cnt - declared >= {{min_missing}}
        AND g.emp_cnt - declared >= g.emp_cnt * {{min_share_missing}}
),
hit AS (SELECT *, sum(at_stake) OVER (PARTITION BY emp_no, year) AS total FROM rows)
SELECT 'headcount|' || emp_no || '|' || year AS hit_key,
       'employer' AS entity_type,
       emp_no AS entity_id,
       'violating' AS role,
       unnest(no_claim_keys()), CAST(NULL AS VARCHAR) AS psn_no,
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
