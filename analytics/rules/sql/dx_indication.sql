-- Template: an item with indications (catalogue.indications, ICD-10 prefixes of the main
-- diagnosis) billed on a settlement whose main diagnosis matches none of them.
-- Args: list_types (catalogue kinds), chrgitm_types (only these charge item types; [] = any),
-- except_chrgitm_types (never these), sessions ('exclude': never a planned-session item;
-- 'keep': a planned-session item is kept even when its charge type is excepted; 'any'),
-- session_groups (the item groups of planned sessions: dialysis, chemotherapy and
-- radiotherapy are charged as treatments (05) but judged with the other services where the
-- catalogue has our item groups), kind_zh / kind_en (wording), what_zh / what_en (how the
-- restriction is named). A settlement without a main diagnosis is left to the
-- data-quality rule (医保结算清单信息异常): nothing can be said about its indications.
-- One hit per settlement and item (an inpatient drug billed daily is one lead, all its
-- lines violating). Amount at risk: the lines' inscp_amt.
WITH l AS (
    SELECT line_key, fixmedins_code, psn_no, setl_id, mdtrt_id, feedetl_sn, fee_ocur_time,
           inscp_amt, med_list_name, med_list_codg, indications, dise_codg
    FROM line
    WHERE indications IS NOT NULL
      AND nullif(trim(dise_codg), '') IS NOT NULL
      AND list_contains({{list_types}}, list_type)
      AND (len({{chrgitm_types}}) = 0 OR list_contains({{chrgitm_types}}, item_chrgitm_type))
      AND NOT (list_contains({{except_chrgitm_types}}, coalesce(item_chrgitm_type, ''))
               AND NOT ({{sessions}} = 'keep'
                        AND list_contains({{session_groups}}, coalesce(item_group, ''))))
      AND NOT ({{sessions}} = 'exclude'
               AND list_contains({{session_groups}}, coalesce(item_group, '')))
      AND inscp_amt > 0
),
bad AS (
    SELECT *,
           fixmedins_code || '|' || setl_id AS visit_key,
           count(*) OVER w AS n_lines,
           sum(inscp_amt) OVER w AS total
    FROM l
    WHERE len(list_filter(string_split(indications, ';'),
                          lambda p: trim(p) <> '' AND starts_with(dise_codg, trim(p)))) = 0
    WINDOW w AS (PARTITION BY fixmedins_code, setl_id, med_list_codg)
)
SELECT b.visit_key || '|' || b.med_list_codg AS hit_key,
       'settlement' AS entity_type,
       b.visit_key AS entity_id,
       'violating' AS role,
       b.fixmedins_code, b.psn_no, b.setl_id, b.mdtrt_id, b.feedetl_sn,
       b.fee_ocur_time AS line_time,
       b.inscp_amt AS amount,
       format('{}「{}」({}) {}：主诊断须为 {} 开头的编码；本次主诊断为 {}{}，不在其内；共{}条明细，医保范围内金额{}。',
              {{kind_zh}}, b.med_list_name, b.med_list_codg, {{what_zh}},
              replace(b.indications, ';', '、'), b.dise_codg,
              coalesce(' ' || d.dise_name, ''), b.n_lines, yuan(b.total)) AS evidence,
       format('{} "{}" ({}) {}: the main diagnosis must start with {}; this settlement''s main diagnosis is {}{}, outside them; {} line(s), in-scope {}.',
              {{kind_en}}, b.med_list_name, b.med_list_codg, {{what_en}},
              replace(b.indications, ';', ', '), b.dise_codg,
              coalesce(' (' || d.dise_name || ')', ''), b.n_lines, yuan(b.total)) AS evidence_en
FROM bad b
LEFT JOIN kb_diagnosis d ON d.dise_codg = b.dise_codg
