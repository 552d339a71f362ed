-- Template: a base dropping sharply from one month to the next at the same employer with no
-- filing that explains it (缴费基数无故大幅下降): the base falls by at least min_drop of the
-- month before, and no change (51), enrolment (11) or transfer (41) of that person at that
-- employer takes effect between the two months. The month before is an involved line; the
-- month of the drop and every later month still that far below are violating, amount
-- (base before − base) × the contribution rate.
WITH c AS (
    SELECT *, lag(base) OVER w AS prev, lag(ym) OVER w AS prev_ym
    FROM contrib
    WHERE list_contains({{insutypes}}, insutype)
    WINDOW w AS (PARTITION BY emp_no, psn_no, insutype ORDER BY ym)
),
drops AS (
    SELECT emp_no, psn_no, insutype, ym AS drop_ym, prev_ym, prev, base AS dropped_to,
           emp_name
    FROM c
    WHERE prev_ym = ym - INTERVAL 1 MONTH AND base < prev * (1 - {{min_drop}})
),
unexplained AS (
    SELECT d.*
    FROM drops d
    ANTI JOIN insu_event e
        ON e.emp_no = d.emp_no AND e.psn_no = d.psn_no AND e.evt_type IN ('11', '41', '51')
       AND e.evt_date >= d.prev_ym AND e.evt_date < d.drop_ym + INTERVAL 1 MONTH
),
rows AS (
    SELECT u.*, c.ym, c.base,
           CASE WHEN c.ym >= u.drop_ym THEN 'violating' ELSE 'involved' END AS role,
           CASE WHEN c.ym >= u.drop_ym THEN (u.prev - c.base) * {{contribution_rate}}
                ELSE 0 END AS at_stake
    FROM unexplained u
    JOIN c ON c.emp_no = u.emp_no AND c.psn_no = u.psn_no AND c.insutype = u.insutype
    WHERE c.ym = u.prev_ym OR (c.ym >= u.drop_ym AND c.base < u.prev * (1 - {{min_drop}}))
),
hit AS (
    SELECT *, sum(at_stake) OVER k AS total, count(*) FILTER (role = 'violating') OVER k AS n
    FROM rows
    WINDOW k AS (PARTITION BY emp_no, psn_no, insutype, drop_ym)
)
SELECT 'drop|' || emp_no || '|' || psn_no || '|' || insutype || '|' || strftime(drop_ym, '%Y%m')
           AS hit_key,
       'person' AS entity_type,
       emp_no || '|' || psn_no AS entity_id,
       role,
       unnest(no_claim_keys()), psn_no,
       CAST(ym AS TIMESTAMP) AS line_time,
       at_stake AS amount,
       format('{}（{}）为职工{}申报的缴费基数自{}起由{}降至{}（降幅{}%），同一单位、'
              || '期间无岗位或工资变更申报；此后{}个月少缴费款{}（按费率{}%计）。',
              emp_name, emp_no, psn_no, strftime(drop_ym, '%Y年%m月'), yuan(prev),
              yuan(dropped_to), printf('%.0f', (1 - dropped_to / prev) * 100), n, yuan(total),
              printf('%g', {{contribution_rate}} * 100)) AS evidence,
       format('{} ({}) lowered the base of employee {} from {} to {} ({}% less) as of {} '
              || 'with no change of post or wage filed; contribution short over {} month(s): '
              || '{} (at {}%).',
              emp_name, emp_no, psn_no, yuan(prev), yuan(dropped_to),
              printf('%.0f', (1 - dropped_to / prev) * 100), strftime(drop_ym, '%Y-%m'), n,
              yuan(total), printf('%g', {{contribution_rate}} * 100)) AS evidence_en,
       1 - dropped_to / prev AS score
FROM hit
