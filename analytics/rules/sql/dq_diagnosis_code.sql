-- Template: a main diagnosis code that is not in the diagnosis knowledge table (a typo, a
-- local code, a retired code), and — when the parameter session_check is 1 — a treatment-
-- session diagnosis (args session_codes: Z51.1 化疗, Z51.0 放疗, Z49.1 透析) whose settlement
-- bills no item indicated for it (no catalogue item whose indications cover the code).
-- Settlements without a main diagnosis are the settlement-list rule's. One hit per
-- settlement; amount at risk 0.
WITH unknown AS (
    SELECT v.visit_key, v.fixmedins_code, v.psn_no, v.setl_id, v.mdtrt_id, v.begntime,
           format('主诊断编码「{}」{}不在疾病诊断知识库中{}', v.dise_codg,
                  coalesce('(' || v.dise_name || ')', ''),
                  CASE WHEN NOT regexp_full_match(trim(v.dise_codg), '[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?')
                       THEN '，且不符合ICD-10编码格式' ELSE '' END) AS zh,
           format('main diagnosis code "{}"{} is not in the diagnosis knowledge base{}', v.dise_codg,
                  coalesce(' (' || v.dise_name || ')', ''),
                  CASE WHEN NOT regexp_full_match(trim(v.dise_codg), '[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?')
                       THEN ' and is not shaped like an ICD-10 code' ELSE '' END) AS en
    FROM visit v
    LEFT JOIN kb_diagnosis d ON d.dise_codg = trim(v.dise_codg)
    WHERE nullif(trim(v.dise_codg), '') IS NOT NULL AND d.dise_codg IS NULL
),
indicated AS (
    SELECT DISTINCT fixmedins_code, setl_id
    FROM line
    WHERE {{session_check}} = 1
      AND list_contains({{session_codes}}, dise_codg)
      AND indications IS NOT NULL
      AND len(list_filter(string_split(indications, ';'),
                          lambda p: trim(p) <> '' AND starts_with(dise_codg, trim(p)))) > 0
),
session AS (
    SELECT v.visit_key, v.fixmedins_code, v.psn_no, v.setl_id, v.mdtrt_id, v.begntime,
           format('主诊断 {} {} 为治疗疗程诊断，但本次结算没有任何适应症包含该诊断的项目',
                  v.dise_codg, coalesce(v.dise_name, '')) AS zh,
           format('main diagnosis {} ({}) is a treatment session, but the settlement bills no item indicated for it',
                  v.dise_codg, coalesce(v.dise_name, '')) AS en
    FROM visit v
    ANTI JOIN indicated i USING (fixmedins_code, setl_id)
    WHERE {{session_check}} = 1
      AND list_contains({{session_codes}}, v.dise_codg)
      AND v.setting IN ('op', 'ip')
)
SELECT visit_key AS hit_key,
       'settlement' AS entity_type,
       visit_key AS entity_id,
       'violating' AS role,
       fixmedins_code, psn_no, setl_id, mdtrt_id, NULL AS feedetl_sn,
       begntime AS line_time,
       0.0 AS amount,
       format('疾病诊断编码异常（结算{}）：{}。', setl_id, zh) AS evidence,
       format('Diagnosis code anomaly (settlement {}): {}.', setl_id, en) AS evidence_en
FROM (SELECT * FROM unknown UNION ALL SELECT * FROM session)
