-- Template: a main diagnosis that cannot apply to the patient (diagnosis knowledge:
-- lmt_gend, lmt_age_min_days / lmt_age_max_days), e.g. an O-code for a man, a P-code for
-- an adult. Args: check ('sex' or 'age'). Params: grace_days (age only: days of tolerance
-- beyond the band). One hit per settlement; amount at risk: the settlement's inscp_amt,
-- since every line of it is claimed under a diagnosis the patient cannot have.
WITH v AS (
    SELECT v.visit_key, v.fixmedins_code, v.psn_no, v.setl_id, v.mdtrt_id, v.begntime,
           v.inscp_amt, v.dise_codg, v.gend, v.age_days,
           d.dise_name AS kb_name, d.lmt_gend, d.lmt_age_min_days, d.lmt_age_max_days
    FROM visit v
    JOIN kb_diagnosis d ON d.dise_codg = v.dise_codg
    WHERE CASE {{check}}
            WHEN 'sex' THEN d.lmt_gend IS NOT NULL AND v.gend IN ('1', '2')
                            AND v.gend <> d.lmt_gend
            WHEN 'age' THEN v.age_days IS NOT NULL
                            AND (v.age_days < d.lmt_age_min_days - {{grace_days}}
                                 OR v.age_days > d.lmt_age_max_days + {{grace_days}})
          END
)
SELECT visit_key AS hit_key,
       'settlement' AS entity_type,
       visit_key AS entity_id,
       'violating' AS role,
       fixmedins_code, psn_no, setl_id, mdtrt_id, NULL AS feedetl_sn,
       begntime AS line_time,
       inscp_amt AS amount,
       CASE {{check}}
         WHEN 'sex' THEN format('主诊断 {} {} 限{}性，患者性别为{}；本次结算医保范围内金额{}。',
                                dise_codg, kb_name, gend_zh(lmt_gend), gend_zh(gend),
                                yuan(inscp_amt))
         ELSE format('主诊断 {} {} 适用年龄为{}，患者就诊时年龄{}（{}天）；本次结算医保范围内金额{}。',
                     dise_codg, kb_name,
                     CASE WHEN lmt_age_min_days IS NULL THEN '≤' || lmt_age_max_days || '天'
                          WHEN lmt_age_max_days IS NULL THEN '≥' || lmt_age_min_days || '天'
                          ELSE lmt_age_min_days || '–' || lmt_age_max_days || '天' END,
                     age_zh(age_days), age_days, yuan(inscp_amt))
       END AS evidence,
       CASE {{check}}
         WHEN 'sex' THEN format('Main diagnosis {} ({}) applies to {} patients only; the patient is {}; settlement in-scope {}.',
                                dise_codg, kb_name, gend_en(lmt_gend), gend_en(gend),
                                yuan(inscp_amt))
         ELSE format('Main diagnosis {} ({}) applies to ages {}; the patient was {} ({} days) at admission; settlement in-scope {}.',
                     dise_codg, kb_name,
                     CASE WHEN lmt_age_min_days IS NULL THEN '≤ ' || lmt_age_max_days || ' days'
                          WHEN lmt_age_max_days IS NULL THEN '≥ ' || lmt_age_min_days || ' days'
                          ELSE lmt_age_min_days || '–' || lmt_age_max_days || ' days' END,
                     age_en(age_days), age_days, yuan(inscp_amt))
       END AS evidence_en
FROM v
