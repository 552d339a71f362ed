-- Template: quantity over a cap per line, per calendar day (across visits) or per visit.
-- Args: list_types; levels = the caps counted, narrowest first ('line', 'day', 'visit');
-- report = the levels this rule reports (a level counted but not reported is another
-- rule's, whose excess is not claimed again here).
--   line:  max_cnt_line (any setting) and, for outpatient and pharmacy drug lines,
--          max_days_supply / days_per_unit units (days supplied = cnt × days_per_unit);
--   day:   max_cnt_day on Σcnt of the person's lines of the item on one calendar day
--          (within one visit for the charge item types in day_by_visit_types and the
--          item groups in day_by_visit, where the catalogue has them: a visit fee, a bed or
--          nursing day is due once a day of a visit or stay; two visits on one day each
--          pay their own, which other rules judge);
--   visit: max_cnt_visit on Σcnt of the item in one visit.
-- Precedence: the narrowest cap claims first (line > day > visit); a wider level only
-- claims what is left over its cap after the narrower levels' excess, so no unit is at
-- risk twice.
-- Param supply_factor (an arg where not tuned): a line is reported for its days' supply
-- only beyond supply_factor × max_days_supply (long prescriptions 长处方); its excess is
-- still counted from max_days_supply. Param tolerance: excess units a line or group may
-- have before it is reported (a line within its tolerances claims nothing: its excess is
-- left to the wider levels). day_by_visit_types (charge item types) and day_by_visit (item
-- groups): the items whose daily cap holds per visit.
-- Long prescriptions (长处方): for stable chronic disease an outpatient prescription under a
-- med_type in {{long_rx_med_types}} (14 门诊慢特病) may supply up to {{long_rx_days}} days
-- (12 weeks); that is its max_days_supply when the catalogue's is shorter, and its packs a
-- line may reach that supply whatever max_cnt_line says. Beyond it the
-- line is still a lead, and every other med_type keeps the catalogue's days.
-- Amount at risk: inscp_amt × (Σcnt − N) / Σcnt, spread over the group's lines in
-- proportion to their unclaimed quantity. Column `units` = excess units of the line.
WITH b AS (
    SELECT line_key, fixmedins_code, psn_no, setl_id, mdtrt_id, feedetl_sn, fee_ocur_time,
           med_list_codg, med_list_name, setting, CAST(cnt AS DOUBLE) AS cnt,
           CAST(inscp_amt AS DOUBLE) AS inscp_amt,
           day_of(fee_ocur_time) AS d,
           CASE WHEN list_contains({{day_by_visit_types}}, item_chrgitm_type)
                     OR list_contains({{day_by_visit}}, item_group)
                THEN fixmedins_code || '|' || mdtrt_id ELSE '' END AS day_visit,
           CASE WHEN long_rx AND days_per_unit > 0
                THEN greatest(CAST(max_cnt_line AS DOUBLE), supply_days / CAST(days_per_unit AS DOUBLE))
                ELSE CAST(max_cnt_line AS DOUBLE) END AS cap_line,
           CAST(days_per_unit AS DOUBLE) AS dpu,
           supply_days AS max_days_supply,
           CASE WHEN setting IN ('op', 'ph') AND days_per_unit > 0 AND supply_days > 0
                THEN supply_days / CAST(days_per_unit AS DOUBLE) END AS cap_supply,
           CAST(max_cnt_day AS DOUBLE) AS cap_day,
           CAST(max_cnt_visit AS DOUBLE) AS cap_visit
    FROM (SELECT *,
                 CASE WHEN long_rx THEN greatest(max_days_supply, {{long_rx_days}})
                      ELSE max_days_supply END AS supply_days
          FROM (SELECT *, coalesce(list_contains({{long_rx_med_types}}, med_type)
                                   AND max_days_supply > 0, false) AS long_rx
                FROM line))
    WHERE list_type IN {{list_types}} AND cnt > 0
      AND (max_cnt_line IS NOT NULL OR max_days_supply IS NOT NULL
           OR max_cnt_day IS NOT NULL OR max_cnt_visit IS NOT NULL)
),
l AS (
    SELECT *,
           least(coalesce(cap_line, 1e18), coalesce(cap_supply, 1e18)) AS cap_l,
           -- reported only beyond the tolerances; the excess is counted from the cap itself
           coalesce(cnt - cap_line > {{tolerance}} + 1e-9, false)
             OR coalesce(cnt > {{supply_factor}} * cap_supply + {{tolerance}} + 1e-9, false)
               AS line_over,
           CASE WHEN list_contains({{levels}}, 'line')
                THEN greatest(0, cnt - least(coalesce(cap_line, 1e18),
                                             coalesce(cap_supply, 1e18)))
                ELSE 0 END AS e_line_cap
    FROM b
),
l2 AS (
    -- a line's excess is claimed at line level only when the line is reported
    SELECT *, CASE WHEN line_over THEN e_line_cap ELSE 0 END AS e_line FROM l
),
-- Group totals by hash aggregation on the lines of items capped at that level: first the
-- totals that find the groups over their cap (few), then those groups' other figures;
-- only the lines a report can name (or a wider level must count) go on.
dsum AS (
    SELECT psn_no, med_list_codg, d, day_visit
    FROM l2
    WHERE list_contains({{levels}}, 'day') AND cap_day IS NOT NULL
    GROUP BY psn_no, med_list_codg, d, day_visit
    HAVING greatest(0, sum(cnt) - sum(e_line) - any_value(cap_day)) > 1e-9
),
dg AS (
    SELECT psn_no, med_list_codg, d, day_visit,
           sum(cnt) AS d_sum, sum(e_line) AS d_claim, count(*) AS d_lines,
           count(DISTINCT mdtrt_id) AS d_visits, sum(inscp_amt) AS d_inscp,
           sum(inscp_amt * (cnt - e_line) / cnt) AS d_open_inscp,
           greatest(0, sum(cnt) - sum(e_line) - any_value(cap_day)) AS d_excess
    FROM l2
    SEMI JOIN dsum USING (psn_no, med_list_codg, d, day_visit)
    GROUP BY psn_no, med_list_codg, d, day_visit
),
dl AS (
    SELECT l2.*, dg.* EXCLUDE (psn_no, med_list_codg, d, day_visit),
           CASE WHEN d_excess > 1e-9 THEN d_excess * (cnt - e_line) / (d_sum - d_claim)
                ELSE 0 END AS e_day,
           CASE WHEN d_excess > 1e-9 THEN d_excess * d_open_inscp / (d_sum - d_claim)
                ELSE 0 END AS d_risk
    FROM l2
    LEFT JOIN dg USING (psn_no, med_list_codg, d, day_visit)
    -- a line without the keys of its day and visit groups is not judged
    WHERE psn_no IS NOT NULL AND med_list_codg IS NOT NULL AND d IS NOT NULL
      AND fixmedins_code IS NOT NULL AND mdtrt_id IS NOT NULL
      AND ((e_line > 1e-9 AND line_over) OR d_excess IS NOT NULL
           OR (list_contains({{levels}}, 'visit') AND cap_visit IS NOT NULL))
),
vg AS (
    SELECT fixmedins_code, mdtrt_id, med_list_codg,
           sum(cnt) AS v_sum, sum(e_line + e_day) AS v_claim, count(*) AS v_lines,
           sum(inscp_amt) AS v_inscp,
           sum(inscp_amt * (cnt - e_line - e_day) / cnt) AS v_open_inscp,
           greatest(0, sum(cnt) - sum(e_line + e_day) - any_value(cap_visit)) AS v_excess
    FROM dl
    WHERE list_contains({{levels}}, 'visit') AND cap_visit IS NOT NULL
    GROUP BY fixmedins_code, mdtrt_id, med_list_codg
    HAVING greatest(0, sum(cnt) - sum(e_line + e_day) - any_value(cap_visit)) > 1e-9
),
g AS (
    -- only the lines a report below can name
    SELECT dl.*, vg.* EXCLUDE (fixmedins_code, mdtrt_id, med_list_codg),
           CASE WHEN v_excess > 1e-9
                THEN v_excess * (cnt - e_line - e_day) / (v_sum - v_claim) ELSE 0 END
               AS e_visit,
           CASE WHEN v_excess > 1e-9 THEN v_excess * v_open_inscp / (v_sum - v_claim)
                ELSE 0 END AS v_risk
    FROM dl
    LEFT JOIN vg USING (fixmedins_code, mdtrt_id, med_list_codg)
    WHERE (e_line > 1e-9 AND line_over) OR d_excess IS NOT NULL OR v_excess IS NOT NULL
),
hits AS (
    -- one line over its own cap
    SELECT line_key AS hit_key, 'fee_line' AS entity_type, line_key AS entity_id,
           'violating' AS role, *, e_line AS units, inscp_amt * e_line / cnt AS amt,
           CASE WHEN cap_supply IS NOT NULL AND cap_supply <= coalesce(cap_line, 1e18)
                THEN format('{}「{}」({}) 每次处方最多支付{}天用量（每单位可用{}天，即{}单位）；'
                            || '本行数量{}，可用{}天，超出{}天{}；医保范围内金额{}，疑点金额{}。',
                            {{kind_zh}}, med_list_name, med_list_codg, max_days_supply,
                            printf('%g', dpu), printf('%.3g', cap_supply), printf('%g', cnt),
                            printf('%g', cnt * dpu), printf('%g', cnt * dpu - max_days_supply),
                            CASE WHEN {{supply_factor}} > 1
                                 THEN '（超过长处方容许的' || printf('%g', CAST({{supply_factor}} AS DOUBLE))
                                      || '倍即' || printf('%g', CAST({{supply_factor}} AS DOUBLE) * max_days_supply)
                                      || '天）' ELSE '' END,
                            yuan(inscp_amt), yuan(inscp_amt * e_line / cnt))
                ELSE format('{}「{}」({}) 单条明细限量{}；本行数量{}，超出{}；'
                            || '医保范围内金额{}，疑点金额{}。',
                            {{kind_zh}}, med_list_name, med_list_codg, printf('%g', cap_l),
                            printf('%g', cnt), printf('%g', e_line),
                            yuan(inscp_amt), yuan(inscp_amt * e_line / cnt)) END AS evidence,
           CASE WHEN cap_supply IS NOT NULL AND cap_supply <= coalesce(cap_line, 1e18)
                THEN format('{} "{}" ({}) may be supplied for at most {} days per prescription '
                            || '({} days per unit, i.e. {} units); this line has {} units = {} '
                            || 'days, {} days over{}; in-scope {}, at risk {}.',
                            {{kind_en}}, med_list_name, med_list_codg, max_days_supply,
                            printf('%g', dpu), printf('%.3g', cap_supply), printf('%g', cnt),
                            printf('%g', cnt * dpu), printf('%g', cnt * dpu - max_days_supply),
                            CASE WHEN {{supply_factor}} > 1
                                 THEN ' (beyond the ' || printf('%g', CAST({{supply_factor}} AS DOUBLE))
                                      || '× = ' || printf('%g', CAST({{supply_factor}} AS DOUBLE) * max_days_supply)
                                      || ' days tolerated for long prescriptions)' ELSE '' END,
                            yuan(inscp_amt), yuan(inscp_amt * e_line / cnt))
                ELSE format('{} "{}" ({}) is capped at {} per line; this line has {}, {} over; '
                            || 'in-scope {}, at risk {}.',
                            {{kind_en}}, med_list_name, med_list_codg, printf('%g', cap_l),
                            printf('%g', cnt), printf('%g', e_line),
                            yuan(inscp_amt), yuan(inscp_amt * e_line / cnt)) END AS evidence_en
    FROM g
    WHERE list_contains({{report}}, 'line') AND e_line > 1e-9 AND line_over
    UNION ALL
    -- the person's lines of one calendar day over the daily cap
    SELECT 'day|' || psn_no || '|' || med_list_codg || '|' || CAST(d AS VARCHAR)
               || CASE WHEN day_visit <> '' THEN '|' || day_visit ELSE '' END,
           'person', psn_no, 'violating', *, e_day, inscp_amt * e_day / cnt,
           format('{}「{}」({}) 每日限{}；患者{}当日共{}（{}条明细，{}次就诊），'
                  || '超出{}{}；当日医保范围内金额{}，疑点金额{}。',
                  {{kind_zh}}, med_list_name, med_list_codg, printf('%g', cap_day), d,
                  printf('%g', d_sum), d_lines, d_visits, printf('%.3g', d_excess),
                  CASE WHEN d_claim > 0 THEN '（已扣除单条超量' || printf('%.3g', d_claim) || '）'
                       ELSE '' END,
                  yuan(d_inscp), yuan(d_risk)),
           format('{} "{}" ({}) is capped at {} per day; on {} the patient had {} ({} lines, '
                  || '{} visits), {} over{}; in-scope that day {}, at risk {}.',
                  {{kind_en}}, med_list_name, med_list_codg, printf('%g', cap_day), d,
                  printf('%g', d_sum), d_lines, d_visits, printf('%.3g', d_excess),
                  CASE WHEN d_claim > 0
                       THEN ' (after ' || printf('%.3g', d_claim) || ' over a per-line cap)'
                       ELSE '' END,
                  yuan(d_inscp), yuan(d_risk))
    FROM g
    WHERE list_contains({{report}}, 'day') AND d_excess > {{tolerance}} + 1e-9
    UNION ALL
    -- one visit's lines over the per-visit cap
    SELECT 'visit|' || fixmedins_code || '|' || mdtrt_id || '|' || med_list_codg,
           'settlement', fixmedins_code || '|' || setl_id, 'violating', *, e_visit,
           inscp_amt * e_visit / cnt,
           format('{}「{}」({}) 每次就诊限{}；本次就诊（{}）共{}（{}条明细），超出{}{}；'
                  || '医保范围内金额{}，疑点金额{}。',
                  {{kind_zh}}, med_list_name, med_list_codg, printf('%g', cap_visit), mdtrt_id,
                  printf('%g', v_sum), v_lines, printf('%.3g', v_excess),
                  CASE WHEN v_claim > 0
                       THEN '（已扣除单条/每日超量' || printf('%.3g', v_claim) || '）'
                       ELSE '' END,
                  yuan(v_inscp), yuan(v_risk)),
           format('{} "{}" ({}) is capped at {} per visit; visit {} had {} ({} lines), {} '
                  || 'over{}; in-scope {}, at risk {}.',
                  {{kind_en}}, med_list_name, med_list_codg, printf('%g', cap_visit), mdtrt_id,
                  printf('%g', v_sum), v_lines, printf('%.3g', v_excess),
                  CASE WHEN v_claim > 0
                       THEN ' (after ' || printf('%.3g', v_claim) || ' over a line or day cap)'
                       ELSE '' END,
                  yuan(v_inscp), yuan(v_risk))
    FROM g
    WHERE list_contains({{report}}, 'visit') AND v_excess > {{tolerance}} + 1e-9
)
SELECT hit_key, entity_type, entity_id,
       CASE WHEN units > 1e-9 THEN 'violating' ELSE 'involved' END AS role,
       fixmedins_code, psn_no, setl_id, mdtrt_id, feedetl_sn,
       fee_ocur_time AS line_time,
       round(amt, 4) AS amount,
       evidence, evidence_en, units
FROM hits
