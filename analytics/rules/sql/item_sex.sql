-- Template: item restricted to one sex (catalogue.lmt_gend) billed for a patient of the
-- other sex. Args: list_types (which catalogue kinds), kind_zh / kind_en (wording).
-- Amount at risk: the line's inscp_amt.
SELECT line_key AS hit_key,
       'fee_line' AS entity_type,
       line_key AS entity_id,
       'violating' AS role,
       fixmedins_code, psn_no, setl_id, mdtrt_id, feedetl_sn,
       fee_ocur_time AS line_time,
       inscp_amt AS amount,
       format('{}「{}」({}) 限{}性使用，患者性别为{}；医保范围内金额{}。',
              {{kind_zh}}, med_list_name, med_list_codg, gend_zh(lmt_gend), gend_zh(gend),
              yuan(inscp_amt)) AS evidence,
       format('{} "{}" ({}) is restricted to {} patients; the patient is {}; in-scope {}.',
              {{kind_en}}, med_list_name, med_list_codg, gend_en(lmt_gend), gend_en(gend),
              yuan(inscp_amt)) AS evidence_en
FROM line
WHERE lmt_gend IS NOT NULL
  AND gend IN ('1', '2')
  AND gend <> lmt_gend
  AND list_type IN {{list_types}}
  AND inscp_amt > 0
