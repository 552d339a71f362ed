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
grouped AS (
    SELECT *, {{ident:indicator}} AS x,
           count(*) OVER g AS n_peers,
           median({{ident:indicator}}) OVER g AS med
    FROM unit
    WINDOW g AS (PARTITION BY fixmedins_type, medins_type, hosp_lv, setting, month)
),
spread AS (
    SELECT fixmedins_type, medins_type, hosp_lv, setting, month,
           count(DISTINCT county) AS n_counties,
           median(abs(x - med)) * 1.4826 AS mad
    FROM grouped
    GROUP BY ALL
),
flagged AS (
    SELECT g.*, s.n_counties,
           greatest(s.mad, {{rel_spread}} * g.med) AS scale,
           (g.x - g.med) / greatest(s.mad, {{rel_spread}} * g.med) AS robust_z,
           (g.x - g.med) / g.x AS excess_share,
           (SELECT count(*) FROM grouped o
            WHERE o.fixmedins_type = g.fixmedins_type AND o.medins_type = g.medins_type
              AND o.hosp_lv = g.hosp_lv AND o.setting = g.setting AND o.month = g.month
              AND o.county = g.county) AS n_own_county
    FROM grouped g
    JOIN spread s USING (fixmedins_type, medins_type, hosp_lv, setting, month)
    WHERE g.n_peers >= {{min_peers}} AND s.n_counties >= {{min_counties}} AND g.med > 0
      AND g.x >= g.med * (1 + {{min_excess}})
      AND (g.x - g.med) / greatest(s.mad, {{rel_spread}} * g.med) >= {{z}}
),
hit AS (
    SELECT f.*,
           'prov|' || {{indicator}} || '|' || f.fixmedins_code || '|' || f.setting || '|'
               || strftime(f.month, '%Y-%m') AS hit_key,
           format('跨县同类比较：{}（{}，区划{}）{}{}{}：{}，全省（市）{}个县同类同级机构{}家'
                  || '（本县仅{}家）中位数{}，稳健Z值{}（阈值：Z≥{}且高出中位数{}%以上）；'
                  || '按中位数计超出部分的医保范围内金额{}。',
                  f.fixmedins_name, f.fixmedins_code, f.county, strftime(f.month, '%Y-%m'),
                  CASE f.setting WHEN 'op' THEN '门诊' WHEN 'ph' THEN '购药' ELSE '住院' END,
                  CASE {{indicator}} WHEN 'per_visit' THEN '次均费用' ELSE '人均费用' END,
                  yuan(f.x), f.n_counties, f.n_peers, f.n_own_county, yuan(f.med),
                  round(f.robust_z, 1), {{z}}, round(100 * {{min_excess}}),
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
                  round(f.robust_z, 1), {{z}}, round(100 * {{min_excess}}),
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
