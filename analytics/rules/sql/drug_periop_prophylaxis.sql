-- Template: perioperative antibiotic prophylaxis for a clean (I-class incision) operation
-- given beyond the allowed window. For each inpatient stay with a clean surgery item (args
-- clean_surgery), antibiotic lines (catalogue antibiotic_tier set) dated more than {{days}}
-- calendar days after the day of the (last) operation are violating, amount at risk = their
-- inscp_amt; the surgery line is involved. One hit per stay. The claim cannot tell
-- prophylaxis from treatment of a documented infection, hence severity suspicious.
-- Args: clean_surgery (codes). Param: days.
-- The operation is the last surgery line (ties by line_key, not by row order).
WITH op AS (
    SELECT fixmedins_code, mdtrt_id, max(fee_ocur_time) AS op_time,
           arg_max(line_key, (fee_ocur_time, line_key)) AS op_key,
           arg_max(med_list_name, (fee_ocur_time, line_key)) AS op_name,
           arg_max(med_list_codg, (fee_ocur_time, line_key)) AS op_codg
    FROM line
    WHERE setting = 'ip' AND med_list_codg IN {{clean_surgery}}
    GROUP BY fixmedins_code, mdtrt_id
),
ab AS (
    SELECT l.*, op.op_time, op.op_key, op.op_name, op.op_codg,
           l.fixmedins_code || '|' || l.mdtrt_id AS hit_key
    FROM line l JOIN op USING (fixmedins_code, mdtrt_id)
    WHERE l.antibiotic_tier IS NOT NULL AND l.inscp_amt > 0
      AND day_of(l.fee_ocur_time) > day_of(op.op_time) + CAST({{days}} AS INTEGER)
),
h AS (
    SELECT hit_key, sum(inscp_amt) AS total, max(day_of(fee_ocur_time)) AS last_day,
           string_agg(DISTINCT med_list_name, '、' ORDER BY med_list_name) AS names_zh,
           string_agg(DISTINCT med_list_name, ', ' ORDER BY med_list_name) AS names_en
    FROM ab GROUP BY hit_key
),
ev AS (
    SELECT DISTINCT ab.hit_key, ab.op_key, ab.op_time,
           format('清洁手术「{}」({})于{}施行，术后预防用抗菌药物应不超过{}天，但{}仍在使用抗菌药物（{}）；超期部分医保范围内金额{}。',
                  ab.op_name, ab.op_codg, day_of(ab.op_time), {{days}}, h.last_day, h.names_zh,
                  yuan(h.total)) AS evidence,
           format('Clean operation "{}" ({}) on {}: prophylactic antibiotics should stop within {} '
                  || 'day(s), yet antibiotics ({}) were billed until {}; beyond the window in scope {}.',
                  ab.op_name, ab.op_codg, day_of(ab.op_time), {{days}}, h.names_en, h.last_day,
                  yuan(h.total)) AS evidence_en
    FROM ab JOIN h USING (hit_key)
)
SELECT ab.hit_key, 'settlement' AS entity_type, ab.fixmedins_code || '|' || ab.setl_id AS entity_id,
       'violating' AS role, ab.fixmedins_code, ab.psn_no, ab.setl_id, ab.mdtrt_id, ab.feedetl_sn,
       ab.fee_ocur_time AS line_time, ab.inscp_amt AS amount, ev.evidence, ev.evidence_en
FROM ab JOIN ev USING (hit_key)
UNION ALL
SELECT ev.hit_key, 'settlement', l.fixmedins_code || '|' || l.setl_id, 'involved',
       l.fixmedins_code, l.psn_no, l.setl_id, l.mdtrt_id, l.feedetl_sn, l.fee_ocur_time, 0,
       ev.evidence, ev.evidence_en
FROM ev JOIN line l ON l.line_key = ev.op_key
