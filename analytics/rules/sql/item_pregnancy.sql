-- Template: drug to be avoided in pregnancy and lactation (catalogue.caution_pregnancy =
-- '1') billed at a visit whose main diagnosis is pregnancy-related (kb_diagnosis.pregnancy)
-- or that is maternity care (med_type in maternity_med_types). Amount at risk: inscp_amt.
WITH hit AS (
    SELECT l.*, v.dise_name,
           CASE WHEN l.pregnancy = '1' AND l.med_type IN {{maternity_med_types}}
                THEN 'both'
                WHEN l.pregnancy = '1' THEN 'dx'
                ELSE 'care' END AS why
    FROM line l
    JOIN visit v ON v.fixmedins_code = l.fixmedins_code AND v.setl_id = l.setl_id
    WHERE l.caution_pregnancy = '1'
      AND l.inscp_amt > 0
      AND coalesce(l.gend, '') <> '1'
      AND (l.pregnancy = '1' OR l.med_type IN {{maternity_med_types}})
)
SELECT line_key AS hit_key,
       'fee_line' AS entity_type,
       line_key AS entity_id,
       'violating' AS role,
       fixmedins_code, psn_no, setl_id, mdtrt_id, feedetl_sn,
       fee_ocur_time AS line_time,
       inscp_amt AS amount,
       format('药品「{}」({}) 妊娠期及哺乳期禁用或慎用，本次就诊{}；医保范围内金额{}。',
              med_list_name, med_list_codg,
              CASE why
                  WHEN 'care' THEN format('为生育医疗(医疗类别{})', med_type)
                  WHEN 'dx' THEN format('主诊断为妊娠相关疾病 {} {}', dise_codg,
                                        coalesce(dise_name, ''))
                  ELSE format('为生育医疗(医疗类别{})，主诊断为妊娠相关疾病 {} {}',
                              med_type, dise_codg, coalesce(dise_name, ''))
              END,
              yuan(inscp_amt)) AS evidence,
       format('Drug "{}" ({}) is to be avoided in pregnancy and lactation; this visit {}; '
              || 'in-scope {}.',
              med_list_name, med_list_codg,
              CASE why
                  WHEN 'care' THEN format('is maternity care (med_type {})', med_type)
                  WHEN 'dx' THEN format('has the pregnancy-related main diagnosis {}',
                                        dise_codg)
                  ELSE format('is maternity care (med_type {}) with the pregnancy-related '
                              || 'main diagnosis {}', med_type, dise_codg)
              END,
              yuan(inscp_amt)) AS evidence_en
FROM hit
