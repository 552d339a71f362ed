-- Template: a doctor billing more patients in one day than a person can see (医师日接诊量
-- 异常): distinct persons with lines billed by bilg_dr_codg at one institution on one
-- calendar day, in the settings {{settings}}, over {{max_patients}}. Quantity over cap N:
-- each of that day's settlements is violating with inscp_amt × (n − N) / n.
WITH day_line AS NOT MATERIALIZED (
    SELECT fixmedins_code, bilg_dr_codg, CAST(fee_ocur_time AS DATE) AS d, psn_no, setl_id,
           mdtrt_id, inscp_amt, fee_ocur_time
    FROM line
    WHERE setting IN {{settings}} AND bilg_dr_codg IS NOT NULL
),
per_day AS (
    SELECT fixmedins_code, bilg_dr_codg, d,
           count(DISTINCT psn_no) AS n_psn, count(DISTINCT setl_id) AS n_setl,
           sum(inscp_amt) AS amt
    FROM day_line
    GROUP BY ALL
    HAVING count(DISTINCT psn_no) > {{max_patients}}
),
setl AS (
    SELECT l.fixmedins_code, l.bilg_dr_codg, l.d, l.psn_no, l.setl_id, l.mdtrt_id,
           min(l.fee_ocur_time) AS t, sum(l.inscp_amt) AS amt
    FROM day_line l
    SEMI JOIN per_day p USING (fixmedins_code, bilg_dr_codg, d)
    GROUP BY ALL
),
-- one text per doctor-day, then its settlements
hit AS (
    SELECT p.*, p.fixmedins_code || '|' || p.bilg_dr_codg || '|' || p.d AS hit_key,
           format('医师{}于{}在{}为{}名患者计费（{}次结算），超过每日{}名的合理接诊量；当日医保范围内金额{}，'
                  || '按比例超出部分{}。',
                  p.bilg_dr_codg, p.d, p.fixmedins_code, p.n_psn, p.n_setl, {{max_patients}},
                  yuan(p.amt), yuan(p.amt * (p.n_psn - {{max_patients}}) / p.n_psn)) AS evidence,
           format('Doctor {} billed {} patients ({} settlements) at {} on {}, over a plausible {} a '
                  || 'day; in-scope {} that day, the excess share {}.',
                  p.bilg_dr_codg, p.n_psn, p.n_setl, p.fixmedins_code, p.d, {{max_patients}},
                  yuan(p.amt), yuan(p.amt * (p.n_psn - {{max_patients}}) / p.n_psn)) AS evidence_en
    FROM per_day p
)
SELECT p.hit_key,
       'doctor' AS entity_type,
       s.bilg_dr_codg AS entity_id,
       'violating' AS role,
       s.fixmedins_code, s.psn_no, s.setl_id, s.mdtrt_id, NULL AS feedetl_sn,
       s.t AS line_time,
       s.amt * (p.n_psn - {{max_patients}}) / p.n_psn AS amount,
       p.evidence, p.evidence_en,
       CAST(p.n_psn AS DOUBLE) AS score
FROM setl s
JOIN hit p USING (fixmedins_code, bilg_dr_codg, d)
