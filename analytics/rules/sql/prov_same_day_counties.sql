-- Template: one person at institutions of {{min_counties}} or more counties (the first six
-- digits of the institution's admdvs) on one calendar day, in the settings {{settings}}
-- (跨县同日就诊购药). With same_drug_class ≥ 1 only a drug class (the item itself where the
-- catalogue gives no class) billed in that many counties that day is a hit: one refill is
-- care, the same drugs in three counties before noon is stockpiling or card lending. A
-- county's own lake holds one county: nothing can reach the threshold there. The lines of
-- the day's first county are involved; those of every later county are violating with
-- their inscp_amt (a repeat's amount at risk is the repeated charge).
WITH v AS (
    SELECT fixmedins_code, setl_id, psn_no, fixmedins_name, left(admdvs, 6) AS county,
           CAST(begntime AS DATE) AS d
    FROM visit
    WHERE setting IN {{settings}} AND admdvs IS NOT NULL AND psn_no IS NOT NULL
),
person_day AS (
    SELECT psn_no, d FROM v GROUP BY ALL HAVING count(DISTINCT county) >= {{min_counties}}
),
day_line AS (
    SELECT l.fixmedins_code, l.setl_id, l.mdtrt_id, l.feedetl_sn, l.psn_no, l.fee_ocur_time,
           l.inscp_amt, v.county, v.d, v.fixmedins_name,
           CASE WHEN {{same_drug_class}} >= 1 THEN coalesce(l.drug_class, l.med_list_codg)
                ELSE '*' END AS klass,
           coalesce(l.med_list_name, l.medins_list_name, l.med_list_codg) AS item_name
    FROM line l
    JOIN v USING (fixmedins_code, setl_id)
    SEMI JOIN person_day pd ON pd.psn_no = v.psn_no AND pd.d = v.d
    WHERE {{same_drug_class}} < 1 OR l.list_type IN {{drug_list_types}}
),
grp AS (
    SELECT psn_no, d, klass,
           count(DISTINCT county) AS n_counties,
           count(DISTINCT fixmedins_code) AS n_inst,
           arg_min(county, fee_ocur_time) AS first_county,
           array_to_string(list_sort(list(DISTINCT county)), '、') AS counties,
           array_to_string(list_sort(list(DISTINCT fixmedins_name)), '、') AS inst_names,
           array_to_string(list_sort(list(DISTINCT item_name)), '、') AS items
    FROM day_line
    GROUP BY ALL
    HAVING count(DISTINCT county) >= {{min_counties}}
),
-- what was billed again: the lines outside the day's first county
repeated AS (
    SELECT l.psn_no, l.d, l.klass, sum(l.inscp_amt) AS repeated
    FROM day_line l
    JOIN grp g USING (psn_no, d, klass)
    WHERE l.county <> g.first_county
    GROUP BY l.psn_no, l.d, l.klass
),
hit AS (
    SELECT g.*, r.repeated, g.psn_no || '|' || g.d || '|' || g.klass AS hit_key
    FROM grp g
    JOIN repeated r USING (psn_no, d, klass)
)
SELECT h.hit_key,
       'person' AS entity_type,
       l.psn_no AS entity_id,
       CASE WHEN l.county = h.first_county THEN 'involved' ELSE 'violating' END AS role,
       l.fixmedins_code, l.psn_no, l.setl_id, l.mdtrt_id, l.feedetl_sn,
       l.fee_ocur_time AS line_time,
       CASE WHEN l.county = h.first_county THEN 0 ELSE l.inscp_amt END AS amount,
       format('跨县：参保人{}于{}在{}个县（区划{}）的{}家机构（{}）{}{}；'
              || '首个县之外各县的医保范围内金额{}（同日跨县至少{}个县即提示）。',
              h.psn_no, h.d, h.n_counties, h.counties, h.n_inst, h.inst_names,
              CASE WHEN h.klass = '*' THEN '就诊购药' ELSE '均计费同类药品' END,
              CASE WHEN h.klass = '*' THEN '' ELSE '（' || h.items || '）' END,
              yuan(h.repeated), {{min_counties}}) AS evidence,
       format('Cross-county: person {} was billed on {} in {} counties (admdvs {}) at {} '
              || 'institutions ({}){}; in-scope amount outside the first county {} '
              || '(a hit from {} counties on one day).',
              h.psn_no, h.d, h.n_counties, replace(h.counties, '、', ', '), h.n_inst,
              replace(h.inst_names, '、', ', '),
              CASE WHEN h.klass = '*' THEN ''
                   ELSE ', each for drugs of one class (' || replace(h.items, '、', ', ') || ')'
              END,
              yuan(h.repeated), {{min_counties}}) AS evidence_en,
       CAST(h.n_counties AS DOUBLE) AS score
FROM day_line l
JOIN hit h USING (psn_no, d, klass)
