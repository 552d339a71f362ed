-- Template: drug to be used with caution in the elderly (catalogue.caution_elderly = '1')
-- billed for a patient aged elderly_age or more in full years (from the birth date to the
-- start of the visit). Param elderly_age (years). Amount at risk: the line's inscp_amt.
WITH hit AS (
    SELECT *, date_sub('year', brdy, CAST(begntime AS DATE)) AS age_years
    FROM line
    WHERE caution_elderly = '1'
      AND brdy IS NOT NULL
      AND inscp_amt > 0
      AND date_sub('year', brdy, CAST(begntime AS DATE)) >= {{elderly_age}}
)
SELECT line_key AS hit_key,
       'fee_line' AS entity_type,
       line_key AS entity_id,
       'violating' AS role,
       fixmedins_code, psn_no, setl_id, mdtrt_id, feedetl_sn,
       fee_ocur_time AS line_time,
       inscp_amt AS amount,
       format('药品「{}」({}) 为老年人慎用药品(≥{}岁)，患者就诊时{}岁，诊断{}；'
              || '医保范围内金额{}。',
              med_list_name, med_list_codg, {{elderly_age}}, age_years,
              coalesce(dise_codg, '未填'), yuan(inscp_amt)) AS evidence,
       format('Drug "{}" ({}) is to be used with caution in patients aged {} or over; the '
              || 'patient was {} at the visit, diagnosis {}; in-scope {}.',
              med_list_name, med_list_codg, {{elderly_age}}, age_years,
              coalesce(dise_codg, 'missing'), yuan(inscp_amt)) AS evidence_en
FROM hit
