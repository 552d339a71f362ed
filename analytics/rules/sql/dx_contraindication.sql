-- Template: an item with contraindications (catalogue.contraindications, ICD-10 prefixes of
-- the main diagnosis) billed on a settlement whose main diagnosis starts with one of them.
-- Args: list_types (catalogue kinds), kind_zh / kind_en (wording).
-- One hit per settlement and item, all its lines violating. Amount at risk: the lines'
-- inscp_amt.
WITH l AS (
    SELECT line_key, fixmedins_code, psn_no, setl_id, mdtrt_id, feedetl_sn, fee_ocur_time,
           inscp_amt, med_list_name, med_list_codg, contraindications, dise_codg,
           list_filter(string_split(contraindications, ';'),
                       lambda p: trim(p) <> '' AND starts_with(dise_codg, trim(p))) AS matched
    FROM line
    WHERE contraindications IS NOT NULL
      AND nullif(trim(dise_codg), '') IS NOT NULL
      AND list_contains({{list_types}}, list_type)
      AND inscp_amt > 0
),
bad AS (
    SELECT *,
           fixmedins_code || '|' || setl_id AS visit_key,
           count(*) OVER w AS n_lines,
           sum(inscp_amt) OVER w AS total
    FROM l
    WHERE len(matched) > 0
    WINDOW w AS (PARTITION BY fixmedins_code, setl_id, med_list_codg)
)
SELECT b.visit_key || '|' || b.med_list_codg AS hit_key,
       'settlement' AS entity_type,
       b.visit_key AS entity_id,
       'violating' AS role,
       b.fixmedins_code, b.psn_no, b.setl_id, b.mdtrt_id, b.feedetl_sn,
       b.fee_ocur_time AS line_time,
       b.inscp_amt AS amount,
       format('{}「{}」({}) 禁用于 {} 开头的诊断；本次主诊断为 {}{}（属禁忌 {}）；共{}条明细，医保范围内金额{}。',
              {{kind_zh}}, b.med_list_name, b.med_list_codg,
              replace(b.contraindications, ';', '、'), b.dise_codg,
              coalesce(' ' || d.dise_name, ''), array_to_string(b.matched, '、'),
              b.n_lines, yuan(b.total)) AS evidence,
       format('{} "{}" ({}) is contraindicated for diagnoses starting with {}; this settlement''s main diagnosis is {}{} (contraindication {}); {} line(s), in-scope {}.',
              {{kind_en}}, b.med_list_name, b.med_list_codg,
              replace(b.contraindications, ';', ', '), b.dise_codg,
              coalesce(' (' || d.dise_name || ')', ''), array_to_string(b.matched, ', '),
              b.n_lines, yuan(b.total)) AS evidence_en
FROM bad b
LEFT JOIN kb_diagnosis d ON d.dise_codg = b.dise_codg
