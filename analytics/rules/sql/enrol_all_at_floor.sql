-- Template: an employer declaring (almost) everyone at the floor while its annual
-- financial statements show a payroll far above it (全员按下限申报). Per employer and year:
-- the share of its contribution rows at the floor (within at_floor_tolerance) is at least
-- min_share_at_floor, it declares at least min_employees people, and the statements' wage
-- per head and month (wag_sumamt ÷ 12 ÷ emp_cnt) is at least payroll_ratio × the floor.
-- Every row at the floor is a violating line, amount (wage per head − base) × the
-- contribution rate.
WITH c AS (
    SELECT *, round(avg_wage * {{floor_share}}, 2) AS floor
    FROM contrib
    WHERE list_contains({{insutypes}}, insutype) AND avg_wage IS NOT NULL
),
per_year AS (
    SELECT emp_no, year, any_value(emp_name) AS emp_name, any_value(floor) AS floor,
           count(DISTINCT psn_no) AS n_psn,
           avg(CASE WHEN base <= floor * (1 + {{at_floor_tolerance}}) THEN 1.0 ELSE 0.0 END)
               AS share_at_floor
    FROM c
    GROUP BY emp_no, year
),
flagged AS (
    SELECT p.*, CAST(s.wag_sumamt AS DOUBLE) AS payroll, s.emp_cnt,
           CAST(s.wag_sumamt AS DOUBLE) / 12 / s.emp_cnt AS wage_per_head
    FROM per_year p
    JOIN emp_fin_stmt s ON s.emp_no = p.emp_no AND s.year = p.year
    WHERE s.emp_cnt > 0 AND p.n_psn >= {{min_employees}}
      AND p.share_at_floor >= {{min_share_at_floor}}
      AND CAST(s.wag_sumamt AS DOUBLE) / 12 / s.emp_cnt >= p.floor * {{payroll_ratio}}
),
rows AS (
    SELECT f.*, c.psn_no, c.ym, c.base,
           greatest(f.wage_per_head - c.base, 0) * {{contribution_rate}} AS at_stake
    FROM flagged f
    JOIN c ON c.emp_no = f.emp_no AND c.year = f.year
    WHERE c.base <= f.floor * (1 + {{at_floor_tolerance}})
),
hit AS (SELECT *, sum(at_stake) OVER (PARTITION BY emp_no, year) AS total FROM rows)
SELECT 'all_floor|' || emp_no || '|' || year AS hit_key,
       'employer' AS entity_type,
       emp_no AS entity_id,
       'violating' AS role,
       unnest(no_claim_keys()), psn_no,
       CAST(ym AS TIMESTAMP) AS line_time,
       at_stake AS amount,
       format('{}（{}）{}年申报的{}名职工中{}%按下限{}申报缴费基数，而年度财务报表工资总额{}、'
              || '职工{}人，人均月工资{}，为下限的{}倍；按人均工资计少缴费款{}（按费率{}%计）。',
              emp_name, emp_no, year, n_psn, printf('%.0f', share_at_floor * 100), yuan(floor),
              yuan(payroll), emp_cnt, yuan(wage_per_head),
              printf('%.1f', wage_per_head / floor), yuan(total),
              printf('%g', {{contribution_rate}} * 100)) AS evidence,
       format('{} ({}) declared {}% of its {} employees at the floor {} in {}, but its '
              || 'statements show a payroll of {} for {} people, {} per head and month '
              || '({}× the floor); contribution short at that wage: {} (at {}%).',
              emp_name, emp_no, printf('%.0f', share_at_floor * 100), n_psn, yuan(floor), year,
              yuan(payroll), emp_cnt, yuan(wage_per_head),
              printf('%.1f', wage_per_head / floor), yuan(total),
              printf('%g', {{contribution_rate}} * 100)) AS evidence_en,
       share_at_floor AS score
FROM hit
