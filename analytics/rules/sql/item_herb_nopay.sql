-- Template: herbal piece the catalogue never pays for (catalogue.herb_nopay).
-- Arg mode: 'all' = not payable alone or in a compound (单复方均不予支付): every line is a
-- hit; 'single' = not payable when used alone (单方使用不予支付): a hit when it is the only
-- herbal piece (list_type 102) of its prescription (rxno; the visit when rxno is empty).
-- Amount at risk: the line's inscp_amt.
WITH herb AS (
    SELECT *, coalesce(rxno, '') AS rx
    FROM line
    WHERE list_type = '102'
      AND mdtrt_id IN (SELECT mdtrt_id FROM line WHERE herb_nopay = {{mode}})
),
rx AS (  -- herbal pieces per prescription
    SELECT fixmedins_code, mdtrt_id, rx, count(DISTINCT med_list_codg) AS n_herbs
    FROM herb
    GROUP BY ALL
),
hit AS (
    SELECT h.*, r.n_herbs
    FROM herb h
    JOIN rx r USING (fixmedins_code, mdtrt_id, rx)
    WHERE h.herb_nopay = {{mode}}
      AND h.inscp_amt > 0
      AND ({{mode}} = 'all' OR r.n_herbs = 1)
)
SELECT line_key AS hit_key,
       'fee_line' AS entity_type,
       line_key AS entity_id,
       'violating' AS role,
       fixmedins_code, psn_no, setl_id, mdtrt_id, feedetl_sn,
       fee_ocur_time AS line_time,
       inscp_amt AS amount,
       CASE WHEN {{mode}} = 'all'
            THEN format('中药饮片「{}」({}) 单味或复方均不予支付，却按医保范围内收费，'
                        || '处方中共{}味饮片；医保范围内金额{}。',
                        med_list_name, med_list_codg, n_herbs, yuan(inscp_amt))
            ELSE format('中药饮片「{}」({}) 单味使用不予支付，{}中仅此一味饮片；'
                        || '医保范围内金额{}。',
                        med_list_name, med_list_codg,
                        CASE WHEN rx = '' THEN '本次就诊' ELSE '处方' || rx END,
                        yuan(inscp_amt))
       END AS evidence,
       CASE WHEN {{mode}} = 'all'
            THEN format('Herbal piece "{}" ({}) is never payable, alone or in a compound, yet '
                        || 'was billed in scope; its prescription has {} piece(s); in-scope {}.',
                        med_list_name, med_list_codg, n_herbs, yuan(inscp_amt))
            ELSE format('Herbal piece "{}" ({}) is not payable when used alone, and it is the '
                        || 'only herbal piece of {}; in-scope {}.',
                        med_list_name, med_list_codg,
                        CASE WHEN rx = '' THEN 'the visit' ELSE 'prescription ' || rx END,
                        yuan(inscp_amt))
       END AS evidence_en
FROM hit
