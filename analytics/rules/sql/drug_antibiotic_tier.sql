-- Template: antibiotic above the tier the institution and care setting allow (catalogue
-- antibiotic_tier: 1 非限制使用级, 2 限制使用级, 3 特殊使用级). Institution level hosp_lv 1–3;
-- unrated institutions (9, village clinics, private clinics) and pharmacies count as 0.
-- Restricted (2): level ≥ {{restricted_min_level}}, and in outpatient care level ≥
-- {{restricted_op_min_level}}. Special (3): never in outpatient care (卫生部令第84号第二十八条),
-- inpatient only at level ≥ {{special_min_level}}. One hit per line, violating, amount at risk =
-- its inscp_amt.
WITH a AS (
    SELECT *,
           CASE WHEN hosp_lv IN ('1', '2', '3') THEN CAST(hosp_lv AS INTEGER) ELSE 0 END AS lv
    FROM line
    WHERE antibiotic_tier IN ('2', '3') AND inscp_amt > 0
),
v AS (
    SELECT *,
           CASE
             WHEN antibiotic_tier = '3' AND setting <> 'ip' THEN
               format('特殊使用级抗菌药物不得在门诊使用，本次为{}', CASE setting WHEN 'ph' THEN '药店购药' ELSE '门诊' END)
             WHEN antibiotic_tier = '3' AND lv < {{special_min_level}} THEN
               format('特殊使用级抗菌药物限{}级及以上医疗机构住院使用，本机构级别为{}', {{special_min_level}}, coalesce(hosp_lv, '未定级'))
             WHEN antibiotic_tier = '2' AND lv < {{restricted_min_level}} THEN
               format('限制使用级抗菌药物限{}级及以上医疗机构使用，本机构级别为{}', {{restricted_min_level}}, coalesce(hosp_lv, '未定级'))
             WHEN antibiotic_tier = '2' AND setting <> 'ip' AND lv < {{restricted_op_min_level}} THEN
               format('限制使用级抗菌药物在门诊限{}级及以上医疗机构使用，本机构级别为{}', {{restricted_op_min_level}}, hosp_lv)
           END AS why_zh,
           CASE
             WHEN antibiotic_tier = '3' AND setting <> 'ip' THEN
               'a special-use antibiotic may not be used outside inpatient care'
             WHEN antibiotic_tier = '3' AND lv < {{special_min_level}} THEN
               format('a special-use antibiotic needs an inpatient ward at level {} or above; the institution is level {}', {{special_min_level}}, coalesce(hosp_lv, 'unrated'))
             WHEN antibiotic_tier = '2' AND lv < {{restricted_min_level}} THEN
               format('a restricted antibiotic needs an institution at level {} or above; the institution is level {}', {{restricted_min_level}}, coalesce(hosp_lv, 'unrated'))
             WHEN antibiotic_tier = '2' AND setting <> 'ip' AND lv < {{restricted_op_min_level}} THEN
               format('a restricted antibiotic in outpatient care needs an institution at level {} or above; the institution is level {}', {{restricted_op_min_level}}, hosp_lv)
           END AS why_en
    FROM a
)
SELECT line_key AS hit_key, 'fee_line' AS entity_type, line_key AS entity_id,
       'violating' AS role, fixmedins_code, psn_no, setl_id, mdtrt_id, feedetl_sn,
       fee_ocur_time AS line_time, inscp_amt AS amount,
       format('抗菌药物「{}」({})为{}级（{}）：{}；医保范围内金额{}。', med_list_name, med_list_codg,
              CASE antibiotic_tier WHEN '2' THEN '限制使用' ELSE '特殊使用' END,
              antibiotic_tier, why_zh, yuan(inscp_amt)) AS evidence,
       format('Antibiotic "{}" ({}) is tier {} ({}): {}; in-scope {}.', med_list_name,
              med_list_codg, antibiotic_tier,
              CASE antibiotic_tier WHEN '2' THEN 'restricted' ELSE 'special use' END,
              why_en, yuan(inscp_amt)) AS evidence_en
FROM v
WHERE why_zh IS NOT NULL
