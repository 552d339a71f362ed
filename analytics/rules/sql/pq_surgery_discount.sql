-- Template: surgeries marked oprn_discount = 'second_50' billed in the same session (same
-- visit, same calendar day): the dearest is billed at full price, every further one at
-- 50 %. A further surgery billed above (discount + tolerance) × its full price (the price
-- cap at the institution's level, else the reference price) was not discounted.
-- Args: discount (0.5). Param: tolerance (share of the full price).
-- Amount at risk: the part not discounted, inscp_amt × (min(pric, full) − discount × full)
-- / pric (half the line when billed at full price; what lies above the cap is the price
-- rule's).
WITH s AS (
    SELECT *,
           CAST(coalesce(CASE hosp_lv WHEN '2' THEN pric_uplmt_lv2 WHEN '3' THEN pric_uplmt_lv3
                                      ELSE pric_uplmt_lv1 END, ref_pric) AS DOUBLE) AS full_pric,
           day_of(fee_ocur_time) AS op_day
    FROM line
    WHERE oprn_discount = 'second_50' AND cnt > 0
),
ranked AS (
    SELECT *,
           row_number() OVER (PARTITION BY fixmedins_code, mdtrt_id, op_day
                              ORDER BY full_pric DESC, pric DESC, feedetl_sn) AS k,
           count(*) OVER (PARTITION BY fixmedins_code, mdtrt_id, op_day) AS n
    FROM s
),
viol AS (
    SELECT *,
           inscp_amt * greatest(0, least(pric, full_pric) - {{discount}} * full_pric) / pric
               AS at_risk
    FROM ranked
    WHERE k > 1 AND pric > ({{discount}} + {{tolerance}}) * full_pric AND inscp_amt > 0
),
main AS (
    SELECT * FROM ranked WHERE k = 1 AND n > 1
),
hit AS (
    SELECT v.line_key AS hit_key,
           format('同一次手术（{}）中「{}」({}) 为主手术，按全价{}收费；第{}台手术「{}」({}) '
                  || '应按{}%收费（{}），实际单价{}；未折价部分医保范围内{}。',
                  v.op_day, m.med_list_name, m.med_list_codg, yuan(m.pric), v.k,
                  v.med_list_name, v.med_list_codg, CAST(round({{discount}} * 100) AS INTEGER),
                  yuan({{discount}} * v.full_pric), yuan(v.pric), yuan(v.at_risk)) AS evidence,
           format('In one surgical session ({}) "{}" ({}) is the main surgery at full price '
                  || '{}; surgery no. {} "{}" ({}) should be billed at {}% ({}) but was billed '
                  || 'at {}; {} in scope was not discounted.',
                  v.op_day, m.med_list_name, m.med_list_codg, yuan(m.pric), v.k,
                  v.med_list_name, v.med_list_codg, CAST(round({{discount}} * 100) AS INTEGER),
                  yuan({{discount}} * v.full_pric), yuan(v.pric), yuan(v.at_risk)) AS evidence_en,
           v.fixmedins_code, v.mdtrt_id, v.op_day
    FROM viol v
    JOIN main m USING (fixmedins_code, mdtrt_id, op_day)
)
SELECT h.hit_key, 'fee_line' AS entity_type, h.hit_key AS entity_id,
       CASE WHEN r.line_key = h.hit_key THEN 'violating' ELSE 'involved' END AS role,
       r.fixmedins_code, r.psn_no, r.setl_id, r.mdtrt_id, r.feedetl_sn,
       r.fee_ocur_time AS line_time,
       CASE WHEN r.line_key = h.hit_key THEN round(r2.at_risk, 2) ELSE 0 END AS amount,
       h.evidence, h.evidence_en
FROM hit h
JOIN ranked r ON r.fixmedins_code = h.fixmedins_code AND r.mdtrt_id = h.mdtrt_id
             AND r.op_day = h.op_day AND (r.k = 1 OR r.line_key = h.hit_key)
LEFT JOIN viol r2 ON r2.line_key = r.line_key
