-- Template: a claim that began after the insured person's recorded death (死亡后就医结算):
-- the settlement's day is after person.die_date. Every line of the settlement is violating;
-- amount at risk: their inscp_amt.
WITH dead AS (
    SELECT visit_key, fixmedins_code, fixmedins_name, setl_id, psn_no, begntime, die_date,
           setting, inscp_amt AS setl_amt
    FROM visit
    WHERE die_date IS NOT NULL AND CAST(begntime AS DATE) > die_date
),
ln AS (
    SELECT d.*, l.mdtrt_id, l.feedetl_sn, l.fee_ocur_time, l.inscp_amt,
           sum(l.inscp_amt) OVER (PARTITION BY d.visit_key) AS amt,
           count(*) OVER (PARTITION BY d.visit_key) AS n
    FROM dead d
    JOIN line l ON l.fixmedins_code = d.fixmedins_code AND l.setl_id = d.setl_id
)
SELECT visit_key AS hit_key,
       'settlement' AS entity_type,
       visit_key AS entity_id,
       'violating' AS role,
       fixmedins_code, psn_no, setl_id, mdtrt_id, feedetl_sn,
       fee_ocur_time AS line_time,
       inscp_amt AS amount,
       format('参保人{}已于{}死亡，{}天后（{}）仍在{}（{}）发生{}结算，费用{}条，医保范围内金额{}。',
              psn_no, die_date, date_diff('day', die_date, CAST(begntime AS DATE)),
              day_of(begntime), fixmedins_name, fixmedins_code,
              CASE setting WHEN 'ph' THEN '购药' WHEN 'ip' THEN '住院' ELSE '门诊' END,
              n, yuan(amt)) AS evidence,
       format('Person {} died on {} but {} days later ({}) a {} claim was settled at {} ({}): '
              || '{} lines, in-scope {}.',
              psn_no, die_date, date_diff('day', die_date, CAST(begntime AS DATE)),
              day_of(begntime),
              CASE setting WHEN 'ph' THEN 'pharmacy' WHEN 'ip' THEN 'inpatient' ELSE 'outpatient' END,
              fixmedins_name, fixmedins_code, n, yuan(amt)) AS evidence_en,
       CAST(date_diff('day', die_date, CAST(begntime AS DATE)) AS DOUBLE) AS score
FROM ln
