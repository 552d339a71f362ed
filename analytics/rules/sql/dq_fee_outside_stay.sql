-- Template: an inpatient fee line dated outside its stay: before the admission day or after
-- the discharge day (the stay runs from the earliest begntime to the latest endtime of the
-- admission's settlements, so mid-stay settlements do not cut it). Discharge-day lines
-- (discharge medication) are inside. Params: grace_days (days of tolerance either side).
-- One hit per settlement, every outside line violating; amount at risk: their inscp_amt.
WITH stay AS (
    SELECT fixmedins_code, mdtrt_id,
           CAST(min(begntime) AS DATE) AS adm_day, CAST(max(endtime) AS DATE) AS dis_day
    FROM visit
    WHERE setting = 'ip'
    GROUP BY ALL
),
bad AS (
    SELECT l.fixmedins_code, l.psn_no, l.setl_id, l.mdtrt_id, l.feedetl_sn, l.fee_ocur_time,
           l.inscp_amt, s.adm_day, s.dis_day,
           l.fixmedins_code || '|' || l.setl_id AS visit_key,
           format('{}「{}」({}) {}', strftime(l.fee_ocur_time, '%Y-%m-%d'),
                  coalesce(l.med_list_name, l.medins_list_name), l.med_list_codg, yuan(l.inscp_amt)) AS item_zh,
           format('{} "{}" ({}) {}', strftime(l.fee_ocur_time, '%Y-%m-%d'),
                  coalesce(l.med_list_name, l.medins_list_name), l.med_list_codg, yuan(l.inscp_amt)) AS item_en
    FROM line l
    JOIN stay s USING (fixmedins_code, mdtrt_id)
    WHERE l.setting = 'ip'
      AND (CAST(l.fee_ocur_time AS DATE) < s.adm_day - CAST({{grace_days}} AS INTEGER)
           OR CAST(l.fee_ocur_time AS DATE) > s.dis_day + CAST({{grace_days}} AS INTEGER))
),
ev AS (
    SELECT visit_key, count(*) AS n, sum(inscp_amt) AS total,
           string_agg(item_zh, '、' ORDER BY fee_ocur_time, feedetl_sn) AS zh,
           string_agg(item_en, ', ' ORDER BY fee_ocur_time, feedetl_sn) AS en
    FROM bad GROUP BY visit_key
)
SELECT b.visit_key AS hit_key,
       'settlement' AS entity_type,
       b.visit_key AS entity_id,
       'violating' AS role,
       b.fixmedins_code, b.psn_no, b.setl_id, b.mdtrt_id, b.feedetl_sn,
       b.fee_ocur_time AS line_time,
       b.inscp_amt AS amount,
       format('住院{}至{}（就诊{}），{}条费用计费日期在住院期间之外：{}；医保范围内金额合计{}。',
              b.adm_day, b.dis_day, b.mdtrt_id, e.n, e.zh, yuan(e.total)) AS evidence,
       format('Stay {} to {} (visit {}): {} fee line(s) dated outside the stay: {}; in-scope {}.',
              b.adm_day, b.dis_day, b.mdtrt_id, e.n, e.en, yuan(e.total)) AS evidence_en
FROM bad b
JOIN ev e USING (visit_key)
