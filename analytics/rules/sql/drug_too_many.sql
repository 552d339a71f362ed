-- Template: too many different drugs on one outpatient prescription (rxno; the visit when the
-- prescription number is missing). Western and patent drugs count (list_type in
-- {{drug_list_types}}: 101 西药中成药, 103 自制剂, 104 民族药); herbal pieces (102) are a
-- prescription of their own. K different drugs > {{max_drugs}}: every drug line
-- of the prescription is violating, with amount at risk inscp_amt × (K − max) / K (the share
-- of the prescription beyond the limit, spread in proportion). Args: settings,
-- drug_list_types. Param: max_drugs.
WITH d AS (
    SELECT line_key, fixmedins_code, psn_no, setl_id, mdtrt_id, feedetl_sn, fee_ocur_time,
           med_list_codg, med_list_name, inscp_amt,
           fixmedins_code || '|' || mdtrt_id || '|' || coalesce(rxno, '') AS rx_key
    FROM line
    WHERE list_type IN {{drug_list_types}} AND setting IN {{settings}} AND inscp_amt > 0
),
-- the prescriptions over the limit first (few), then their texts
big AS (
    SELECT rx_key FROM d GROUP BY rx_key HAVING count(DISTINCT med_list_codg) > {{max_drugs}}
),
db AS (
    SELECT * FROM d SEMI JOIN big USING (rx_key)
),
rx AS (
    SELECT rx_key, count(DISTINCT med_list_codg) AS k, sum(inscp_amt) AS total,
           string_agg(DISTINCT med_list_name, '、' ORDER BY med_list_name) AS names_zh,
           string_agg(DISTINCT med_list_name, ', ' ORDER BY med_list_name) AS names_en
    FROM db GROUP BY rx_key
)
SELECT rx.rx_key AS hit_key, 'settlement' AS entity_type, d.fixmedins_code || '|' || d.setl_id AS entity_id,
       'violating' AS role, d.fixmedins_code, d.psn_no, d.setl_id, d.mdtrt_id, d.feedetl_sn,
       d.fee_ocur_time AS line_time,
       CAST(d.inscp_amt AS DOUBLE) * (rx.k - {{max_drugs}}) / rx.k AS amount,
       format('门诊处方开具药品{}种（{}），超过每张处方{}种的限定；药品医保范围内金额{}，超出部分按比例计{}。',
              rx.k, rx.names_zh, {{max_drugs}}, yuan(rx.total),
              yuan(CAST(rx.total AS DOUBLE) * (rx.k - {{max_drugs}}) / rx.k)) AS evidence,
       format('One outpatient prescription holds {} different drugs ({}), more than the limit of {}; '
              || 'drugs in scope {}, the share beyond the limit {}.',
              rx.k, rx.names_en, {{max_drugs}}, yuan(rx.total),
              yuan(CAST(rx.total AS DOUBLE) * (rx.k - {{max_drugs}}) / rx.k)) AS evidence_en,
       CAST(rx.k AS DOUBLE) AS score
FROM rx JOIN db AS d USING (rx_key)
