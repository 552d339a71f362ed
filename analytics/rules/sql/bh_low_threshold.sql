-- Template: low-threshold admission (无指征住院/低标准入院): a stay of at most {{max_days}}
-- days whose every fee line is a fixed fee, a test or a non-injectable drug — nothing that
-- needed a bed (no injection, infusion, treatment, surgery, consumable). Day surgery
-- (med_type in {{exclude_med_types}}) is excluded. The kinds of line are the items' charge
-- item types (med_chrgitm_type), which every catalogue carries. Args: allowed_types (the
-- types a stay may hold), drug_types (which of them are drugs), fixed_types (the fixed fees:
-- bed, consultation, nursing, general fee, registration), injectable_pattern (regular
-- expression on drug names that need a nurse, e.g. 注射). Amount at risk: the stay's
-- inscp_amt; its settlements are violating.
-- A stay's diagnosis is its last settlement's (ties by setl_id, not by row order).
WITH stay AS (
    SELECT fixmedins_code, mdtrt_id, psn_no,
           min(begntime) AS adm, max(endtime) AS dis,
           date_diff('day', CAST(min(begntime) AS DATE), CAST(max(endtime) AS DATE)) AS days,
           arg_max(dise_codg, (endtime, setl_id)) AS dise_codg,
           arg_max(dise_name, (endtime, setl_id)) AS dise_name,
           bool_or(med_type IN {{exclude_med_types}}) AS excluded,
           sum(inscp_amt) AS inscp
    FROM visit
    WHERE setting = 'ip'
    GROUP BY fixmedins_code, mdtrt_id, psn_no
),
short AS (
    SELECT * FROM stay WHERE days <= {{max_days}} AND NOT excluded
),
content AS (
    SELECT l.fixmedins_code, l.mdtrt_id,
           bool_and(coalesce(l.item_chrgitm_type IN {{allowed_types}}, false)
                    AND NOT (l.item_chrgitm_type IN {{drug_types}}
                             AND regexp_matches(coalesce(l.med_list_name, ''),
                                                {{injectable_pattern}}))) AS only_light,
           count(*) FILTER (l.item_chrgitm_type IN {{drug_types}}) AS n_drug,
           count(*) FILTER (l.item_chrgitm_type NOT IN {{drug_types}}
                            AND l.item_chrgitm_type NOT IN {{fixed_types}}) AS n_test,
           sum(l.inscp_amt) FILTER (l.item_chrgitm_type IN {{drug_types}}) AS drug_amt
    FROM line l
    JOIN short s ON s.fixmedins_code = l.fixmedins_code AND s.mdtrt_id = l.mdtrt_id
    GROUP BY l.fixmedins_code, l.mdtrt_id
),
hit AS (
    SELECT s.*, c.n_drug, c.n_test, coalesce(c.drug_amt, 0) AS drug_amt,
           format('参保人{}于{}至{}住院{}天（{} {}），住院期间仅有口服药品{}条（{}）和检查检验{}条，'
                  || '无注射、输液、治疗或手术，住院天数不超过{}天，疑似无指征（低标准）入院；'
                  || '本次住院医保范围内金额{}。',
                  s.psn_no, day_of(s.adm), day_of(s.dis), s.days, s.dise_codg, s.dise_name,
                  c.n_drug, yuan(coalesce(c.drug_amt, 0)), c.n_test, {{max_days}},
                  yuan(s.inscp)) AS evidence,
           format('Person {} was admitted {} to {} ({} days, {} {}) with only {} oral drug lines '
                  || '({}) and {} test lines, no injection, infusion, treatment or surgery, '
                  || 'within {} days: suspected admission without indication; in-scope amount '
                  || 'of the stay {}.',
                  s.psn_no, day_of(s.adm), day_of(s.dis), s.days, s.dise_codg, s.dise_name,
                  c.n_drug, yuan(coalesce(c.drug_amt, 0)), c.n_test, {{max_days}},
                  yuan(s.inscp)) AS evidence_en
    FROM short s
    JOIN content c ON c.fixmedins_code = s.fixmedins_code AND c.mdtrt_id = s.mdtrt_id
    WHERE c.only_light
)
SELECT h.fixmedins_code || '|' || h.mdtrt_id AS hit_key,
       'settlement' AS entity_type,
       h.fixmedins_code || '|' || h.mdtrt_id AS entity_id,
       'violating' AS role,
       v.fixmedins_code, v.psn_no, v.setl_id, v.mdtrt_id, NULL AS feedetl_sn,
       v.begntime AS line_time,
       v.inscp_amt AS amount,
       h.evidence, h.evidence_en,
       CAST(h.days AS DOUBLE) AS score
FROM hit h
JOIN visit v ON v.fixmedins_code = h.fixmedins_code AND v.mdtrt_id = h.mdtrt_id
