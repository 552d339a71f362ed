-- Template: second-line drug (catalogue.first_line_class) with no use of a drug of its
-- first-line class by the same person before it: none within {{days}} days up to the same day
-- (any institution), nor earlier in the same stay. One hit per second-line line, violating,
-- amount at risk = its inscp_amt. Param: days.
WITH s AS (
    SELECT line_key, fixmedins_code, psn_no, setl_id, mdtrt_id, feedetl_sn, fee_ocur_time,
           med_list_codg, med_list_name, drug_class, first_line_class, inscp_amt
    FROM line
    WHERE first_line_class IS NOT NULL AND inscp_amt > 0
),
f AS (
    SELECT fixmedins_code, psn_no, mdtrt_id, drug_class, fee_ocur_time
    FROM line
    WHERE drug_class IN (SELECT DISTINCT first_line_class FROM s)
      AND psn_no IN (SELECT psn_no FROM s)
),
prior AS (
    SELECT DISTINCT s.line_key
    FROM s JOIN f ON f.psn_no = s.psn_no AND f.drug_class = s.first_line_class
    WHERE (day_of(f.fee_ocur_time) <= day_of(s.fee_ocur_time)
           AND day_of(f.fee_ocur_time) >= day_of(s.fee_ocur_time) - CAST({{days}} AS INTEGER))
       OR (f.fixmedins_code = s.fixmedins_code AND f.mdtrt_id = s.mdtrt_id
           AND f.fee_ocur_time <= s.fee_ocur_time)
),
fl AS (
    -- the first-line class's catalogue drugs, named for the evidence
    SELECT drug_class, string_agg(med_list_name, '、' ORDER BY med_list_codg) AS names
    FROM kb_catalogue WHERE drug_class IN (SELECT first_line_class FROM s) GROUP BY drug_class
)
SELECT line_key AS hit_key, 'fee_line' AS entity_type, line_key AS entity_id,
       'violating' AS role, fixmedins_code, psn_no, setl_id, mdtrt_id, feedetl_sn,
       fee_ocur_time AS line_time, inscp_amt AS amount,
       format('药品「{}」({})限二线使用，须先用一线药物（{}类：{}）；患者在此前{}天内及本次就诊中均无该类用药记录；医保范围内金额{}。',
              med_list_name, med_list_codg, first_line_class, coalesce(fl.names, first_line_class),
              {{days}}, yuan(inscp_amt)) AS evidence,
       format('Drug "{}" ({}) is second-line: a {} drug must be tried first; the patient had no {} '
              || 'drug in the {} days before nor earlier in this stay; in-scope {}.',
              med_list_name, med_list_codg, first_line_class, first_line_class, {{days}},
              yuan(inscp_amt)) AS evidence_en
FROM s LEFT JOIN fl ON fl.drug_class = s.first_line_class
WHERE line_key NOT IN (SELECT line_key FROM prior)
