-- Template: an institution's {{ident:indicator}} (cost per visit or per person) in one care
-- setting and month against every county's institutions of its kind and level
-- (fixmedins_type × medins_type × hosp_lv): a county has one general hospital of its level,
-- a province has dozens. The peer group (the unit included) needs {{min_peers}} units with
-- {{min_visits}} visits and {{min_persons}} persons or more (a handful of heavy users makes
-- a small unit's cost per person say nothing of the unit), spread over {{min_counties}} counties or more — so a
-- county's own lake never forms one. A lead needs a robust z of {{z}} (MAD × 1.4826, with a
-- floor of {{rel_spread}} × the median so that near-identical peers do not make every
-- difference huge) and a value {{min_excess}} above the peers' median: a specialist
-- hospital is compared with its own kind, never with general ones. The amount at risk is
-- the unit's in-scope amount times the share of its value above the median, shared over
-- its settlements by their in-scope amounts.
WITH v AS (
    SELECT fixmedins_code, setl_id, mdtrt_id, psn_no, setting, begntime, setl_time,
           medfee_sumamt, inscp_amt, CAST(date_trunc('month', begntime) AS DATE) AS month,
           left(admdvs, 6) AS county, fixmedins_type, coalesce(hosp_lv, '0') AS hosp_lv,
           coalesce(medins_type, '') AS medins_type, fixmedins_name
    FROM visit
    WHERE setting IN {{settings}} AND admdvs IS NOT NULL
),
unit AS (
    SELECT fixmedins_code, setting, month,
           any_value(county) AS county, any_value(fixmedins_type) AS fixmedins_type,
           any_value(hosp_lv) AS hosp_lv, any_value(medins_type) AS medins_type,
           any_value(fixmedins_name) AS fixmedins_name,
           count(*) AS n_visits, count(DISTINCT psn_no) AS n_persons,
           sum(medfee_sumamt) / count(*) AS per_visit,
           sum(medfee_sumamt) / count(DISTINCT psn_no) AS per_person,
           sum(inscp_amt) AS inscp
    FROM v
    GROUP BY fixmedins_code, setting, month
    HAVING count(*) >= {{min_visits}} AND count(DISTINCT psn_no) >= {{min_persons}}
),
x_unit AS (
    SELECT *, {{ident:indicator}} AS x FROM unit
),
-- the peer groups: every county's units of one kind and level, per setting and month
peer AS (
    SELECT fixmedins_type, medins_type, hosp_lv, setting, month,
           count(*) AS n_peers, count(DISTINCT county) AS n_counties, median(x) AS med
    FROM x_unit
    GROUP BY fixmedins_type, medins_type, hosp_lv, setting, month
),
spread AS (
    SELECT u.fixmedins_type, u.medins_type, u.hosp_lv, u.setting, u.month,
           median(abs(u.x - p.med)) * 1.4826 AS mad
    FROM x_unit u
    JOIN peer p USING (fixmedins_type, medins_type, hosp_lv, setting, month)
    GROUP BY u.fixmedins_type, u.medins_type, u.hosp_lv, u.setting, u.month
),
own AS (
    SELECT fixmedins_type, medins_type, hosp_lv, setting, month, county,
           count(*) AS n_own_county
    FROM x_unit
    GROUP BY fixmedins_type, medins_type, hosp_lv, setting, month, county
),
flagged AS (
    SELECT u.*, p.n_peers, p.n_counties, p.med, o.n_own_county,
           (u.x - p.med) / greatest(s.mad, {{rel_spread}} * p.med) AS robust_z,
           (u.x - p.med) / u.x AS excess_share
    FROM x_unit u
    JOIN peer p USING (fixmedins_type, medins_type, hosp_lv, setting, month)
    JOIN spread s USING (fixmedins_type, medins_type, hosp_lv, setting, month)
    JOIN own o USING (fixmedins_type, medins_type, hosp_lv, setting, month, county)
    WHERE p.n_peers >= {{min_peers}} AND p.n_counties >= {{min_counties}} AND p.med > 0
      AND u.x >= p.med * (1 + {{min_excess}})
      AND (u.x - p.med) / greatest(s.mad, {{rel_spread}} * p.med) >= {{z}}
),
hit AS (
    SELECT f.*,
           'prov|' || {{indicator}} || '|' || f.fixmedins_code || '|' || f.setting || '|'
               || strftime(f.month, '%Y-%m') AS hit_key,
           format('跨县同类比较：{}（{}，区划{}）{}{}{}：{}，全省（市）{}个县同类同级机构{}家'
                  || '（其中本县{}家）中位数{}，稳健Z值{}（阈值：Z≥{}且高出中位数{}%以上）；'
                  || '按中位数计超出部分的医保范围内金额{}。',
                  f.fixmedins_name, f.fixmedins_code, f.county, strftime(f.month, '%Y-%m'),
                  CASE f.setting WHEN 'op' THEN '门诊' WHEN 'ph' THEN '购药' ELSE '住院' END,
                  CASE {{indicator}} WHEN 'per_visit' THEN '次均费用' ELSE '人均费用' END,
                  yuan(f.x), f.n_counties, f.n_peers, f.n_own_county, yuan(f.med),
                  round(f.robust_z, 1), {{z}}, CAST(round(100 * {{min_excess}}) AS INTEGER),
                  yuan(f.inscp * f.excess_share)) AS evidence,
           format('Cross-county peers: {} ({}, admdvs {}) {} {} cost per {}: {}, against {} '
                  || 'peers of its kind and level in {} counties ({} in its own county), median '
                  || '{}, robust z {} (thresholds: z >= {}, at least {}% above the median); '
                  || 'in-scope amount beyond the median {}.',
                  f.fixmedins_name, f.fixmedins_code, f.county, strftime(f.month, '%Y-%m'),
                  CASE f.setting WHEN 'op' THEN 'outpatient' WHEN 'ph' THEN 'pharmacy'
                       ELSE 'inpatient' END,
                  CASE {{indicator}} WHEN 'per_visit' THEN 'visit' ELSE 'person' END,
                  yuan(f.x), f.n_peers, f.n_counties, f.n_own_county, yuan(f.med),
                  round(f.robust_z, 1), {{z}}, CAST(round(100 * {{min_excess}}) AS INTEGER),
                  yuan(f.inscp * f.excess_share)) AS evidence_en
    FROM flagged f
)
SELECT h.hit_key,
       'institution' AS entity_type,
       h.fixmedins_code AS entity_id,
       'violating' AS role,
       v.fixmedins_code, v.psn_no, v.setl_id, v.mdtrt_id, NULL AS feedetl_sn,
       v.setl_time AS line_time,
       v.inscp_amt * h.excess_share AS amount,
       h.evidence, h.evidence_en,
       h.robust_z AS score
FROM v
JOIN hit h USING (fixmedins_code, setting, month)
