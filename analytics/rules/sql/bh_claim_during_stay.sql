-- Template: outpatient or pharmacy claims of a person while they are in an inpatient bed
-- (住院期间门诊/购药): the claim's day is after the admission day and before the discharge
-- day of one of their stays (at any institution). Lines of external prescriptions
-- (rx_circ_flag = 1) and discharge medication (dscg_tkdrug_flag = 1) are legitimate and left
-- out. Args: settings (which claims count). Amount at risk: the claim's lines' inscp_amt.
-- The stay's settlements are violating too, with amount 0: the conflict has two sides, and
-- either the claim used the inpatient's card (冒名) or the patient was not in the bed
-- (挂床住院); the auditor reviews both.
WITH stay AS (
    SELECT psn_no, fixmedins_code AS ip_code, mdtrt_id AS ip_mdtrt,
           any_value(fixmedins_name) AS ip_name,
           min(begntime) AS adm, max(endtime) AS dis
    FROM visit
    WHERE setting = 'ip'
    GROUP BY psn_no, fixmedins_code, mdtrt_id
),
claim AS (
    SELECT v.visit_key, v.fixmedins_code, v.fixmedins_name, v.setl_id, v.mdtrt_id, v.psn_no,
           v.begntime, v.setting, s.ip_code, s.ip_name, s.ip_mdtrt, s.adm, s.dis
    FROM visit v
    JOIN stay s ON s.psn_no = v.psn_no
    WHERE v.setting IN {{settings}}
      AND CAST(v.begntime AS DATE) > CAST(s.adm AS DATE)
      AND CAST(v.begntime AS DATE) < CAST(s.dis AS DATE)
),
one AS (  -- a claim inside two overlapping stays is one hit, against the earliest stay
          -- (a tie by its keys: never by the order the rows came in)
    SELECT * FROM claim QUALIFY row_number() OVER (PARTITION BY visit_key ORDER BY adm, ip_code, ip_mdtrt) = 1
),
ln AS (
    SELECT c.*, l.feedetl_sn, l.fee_ocur_time, l.inscp_amt, l.med_list_name, l.med_list_codg
    FROM one c
    JOIN line l ON l.fixmedins_code = c.fixmedins_code AND l.setl_id = c.setl_id
    WHERE coalesce(l.rx_circ_flag, '0') <> '1' AND coalesce(l.dscg_tkdrug_flag, '0') <> '1'
),
tot AS (
    SELECT visit_key, sum(inscp_amt) AS amt, count(*) AS n FROM ln GROUP BY visit_key
),
stay_rows AS (
    SELECT DISTINCT o.visit_key, o.ip_code, o.ip_mdtrt FROM one o SEMI JOIN tot USING (visit_key)
),
rows AS (
    SELECT visit_key, fixmedins_code, psn_no, setl_id, mdtrt_id, feedetl_sn,
           fee_ocur_time AS line_time, inscp_amt AS amount
    FROM ln
    UNION ALL
    SELECT r.visit_key, v.fixmedins_code, v.psn_no, v.setl_id, v.mdtrt_id, NULL,
           v.begntime, 0.0
    FROM stay_rows r
    JOIN visit v ON v.fixmedins_code = r.ip_code AND v.mdtrt_id = r.ip_mdtrt
),
txt AS (
    SELECT DISTINCT ln.visit_key,
       format('参保人{}于{}在{}（{}）{}结算，而其正在{}住院（{}至{}），住院期间发生门诊/购药费用{}条'
              || '（非外配处方、非出院带药），医保范围内金额{}。',
              ln.psn_no, day_of(ln.begntime), ln.fixmedins_name, ln.fixmedins_code,
              CASE ln.setting WHEN 'ph' THEN '购药' ELSE '门诊' END, ln.ip_name,
              day_of(ln.adm), day_of(ln.dis), t.n, yuan(t.amt)) AS evidence,
       format('Person {} settled {} claim at {} ({}) on {} while admitted to {} ({} to {}): {} '
              || 'lines (no external prescription, no discharge medication), in-scope {}.',
              ln.psn_no, CASE ln.setting WHEN 'ph' THEN 'a pharmacy' ELSE 'an outpatient' END,
              ln.fixmedins_name, ln.fixmedins_code, day_of(ln.begntime), ln.ip_name,
              day_of(ln.adm), day_of(ln.dis), t.n, yuan(t.amt)) AS evidence_en
    FROM ln JOIN tot t ON t.visit_key = ln.visit_key
)
SELECT r.visit_key AS hit_key,
       'settlement' AS entity_type,
       r.visit_key AS entity_id,
       'violating' AS role,
       r.fixmedins_code, r.psn_no, r.setl_id, r.mdtrt_id, r.feedetl_sn, r.line_time, r.amount,
       x.evidence, x.evidence_en
FROM rows r JOIN txt x USING (visit_key)
