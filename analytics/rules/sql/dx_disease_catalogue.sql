-- Template: an item restricted to a disease catalogue (catalogue.lmt_dise_catalog, e.g.
-- 门诊慢特病) billed on a settlement whose main diagnosis is not in that catalogue
-- (diagnosis knowledge: catalog). A settlement without a main diagnosis is left to the
-- data-quality rule. Args: list_types, kind_zh / kind_en.
-- One hit per settlement and item, all its lines violating. Amount at risk: the lines'
-- inscp_amt.
WITH bad AS (
    SELECT line_key, fixmedins_code, psn_no, setl_id, mdtrt_id, feedetl_sn, fee_ocur_time,
           inscp_amt, med_list_name, med_list_codg, lmt_dise_catalog, dise_codg, dise_catalog,
           fixmedins_code || '|' || setl_id AS visit_key,
           count(*) OVER w AS n_lines,
           sum(inscp_amt) OVER w AS total
    FROM line
    WHERE lmt_dise_catalog IS NOT NULL
      AND nullif(trim(dise_codg), '') IS NOT NULL
      AND dise_catalog IS DISTINCT FROM lmt_dise_catalog
      AND list_contains({{list_types}}, list_type)
      AND inscp_amt > 0
    WINDOW w AS (PARTITION BY fixmedins_code, setl_id, med_list_codg)
)
SELECT b.visit_key || '|' || b.med_list_codg AS hit_key,
       'settlement' AS entity_type,
       b.visit_key AS entity_id,
       'violating' AS role,
       b.fixmedins_code, b.psn_no, b.setl_id, b.mdtrt_id, b.feedetl_sn,
       b.fee_ocur_time AS line_time,
       b.inscp_amt AS amount,
       format('{}「{}」({}) 限{}病种使用；本次主诊断 {}{} {}；共{}条明细，医保范围内金额{}。',
              {{kind_zh}}, b.med_list_name, b.med_list_codg, b.lmt_dise_catalog, b.dise_codg,
              coalesce(' ' || d.dise_name, ''),
              CASE WHEN d.dise_codg IS NULL THEN '不在诊断知识库中'
                   WHEN b.dise_catalog IS NULL THEN '不属任何病种目录'
                   ELSE '属' || b.dise_catalog || '，不属' || b.lmt_dise_catalog END,
              b.n_lines, yuan(b.total)) AS evidence,
       format('{} "{}" ({}) is restricted to the {} disease catalogue; this settlement''s main diagnosis {}{} {}; {} line(s), in-scope {}.',
              {{kind_en}}, b.med_list_name, b.med_list_codg, b.lmt_dise_catalog, b.dise_codg,
              coalesce(' (' || d.dise_name || ')', ''),
              CASE WHEN d.dise_codg IS NULL THEN 'is not in the diagnosis knowledge base'
                   WHEN b.dise_catalog IS NULL THEN 'is in no disease catalogue'
                   ELSE 'is in ' || b.dise_catalog || ', not ' || b.lmt_dise_catalog END,
              b.n_lines, yuan(b.total)) AS evidence_en
FROM bad b
LEFT JOIN kb_diagnosis d ON d.dise_codg = b.dise_codg
