-- Template: the settlement's procedure code (oprn_oprt_code, ICD-9-CM-3) checked against the
-- procedure knowledge table. Args: check = 'code' (not in the table), 'sex' (lmt_gend
-- differs from the patient's sex) or 'diagnosis' (the main diagnosis starts with none of
-- dise_prefixes; settlements without a main diagnosis are the settlement-list rule's).
-- One hit per settlement; amount at risk 0.
WITH v AS (
    SELECT v.visit_key, v.fixmedins_code, v.psn_no, v.setl_id, v.mdtrt_id, v.begntime,
           trim(v.oprn_oprt_code) AS code, v.dise_codg, v.gend,
           p.oprn_oprt_code AS kb_code, p.oprn_oprt_name, p.lmt_gend, p.dise_prefixes
    FROM visit v
    LEFT JOIN kb_procedure p ON p.oprn_oprt_code = trim(v.oprn_oprt_code)
    WHERE nullif(trim(v.oprn_oprt_code), '') IS NOT NULL
)
SELECT visit_key AS hit_key,
       'settlement' AS entity_type,
       visit_key AS entity_id,
       'violating' AS role,
       fixmedins_code, psn_no, setl_id, mdtrt_id, NULL AS feedetl_sn,
       begntime AS line_time,
       0.0 AS amount,
       CASE {{check}}
         WHEN 'code' THEN format('手术操作编码「{}」不在手术操作知识库（ICD-9-CM-3）中（结算{}）。', code, setl_id)
         WHEN 'sex' THEN format('手术操作 {} {} 限{}性，患者性别为{}（结算{}）。',
                                code, oprn_oprt_name, gend_zh(lmt_gend), gend_zh(gend), setl_id)
         ELSE format('手术操作 {} {} 要求主诊断为 {} 开头的编码，本次主诊断为 {}（结算{}）。',
                     code, oprn_oprt_name, replace(dise_prefixes, ';', '、'), dise_codg, setl_id)
       END AS evidence,
       CASE {{check}}
         WHEN 'code' THEN format('Procedure code "{}" is not in the procedure knowledge base (ICD-9-CM-3) (settlement {}).', code, setl_id)
         WHEN 'sex' THEN format('Procedure {} ({}) applies to {} patients only; the patient is {} (settlement {}).',
                                code, oprn_oprt_name, gend_en(lmt_gend), gend_en(gend), setl_id)
         ELSE format('Procedure {} ({}) needs a main diagnosis starting with {}; the main diagnosis is {} (settlement {}).',
                     code, oprn_oprt_name, replace(dise_prefixes, ';', ', '), dise_codg, setl_id)
       END AS evidence_en
FROM v
WHERE CASE {{check}}
        WHEN 'code' THEN kb_code IS NULL
        WHEN 'sex' THEN lmt_gend IS NOT NULL AND gend IN ('1', '2') AND gend <> lmt_gend
        WHEN 'diagnosis' THEN dise_prefixes IS NOT NULL
             AND nullif(trim(dise_codg), '') IS NOT NULL
             AND len(list_filter(string_split(dise_prefixes, ';'),
                                 lambda p: trim(p) <> '' AND starts_with(trim(dise_codg), trim(p)))) = 0
      END
