-- Template: a line priced above the catalogue's price cap for the institution's level
-- (pric_uplmt_lv1/2/3; an institution without level 1-3 is held to the level-1 cap).
-- Args: list_types, kind_zh / kind_en (wording). Param: tolerance (¥ per unit, rounding).
-- Amount at risk: (pric − cap) × cnt, less what the institution already recorded as
-- over-limit self-pay, and never more than the line's inscp_amt (the in-scope share).
WITH priced AS (
    SELECT * REPLACE (CAST(cnt AS DOUBLE) AS cnt, CAST(pric AS DOUBLE) AS pric,
                      CAST(inscp_amt AS DOUBLE) AS inscp_amt),
           CAST(CASE hosp_lv WHEN '2' THEN pric_uplmt_lv2 WHEN '3' THEN pric_uplmt_lv3
                             ELSE pric_uplmt_lv1 END AS DOUBLE) AS cap,
           CASE WHEN hosp_lv IN ('1', '2', '3') THEN hosp_lv ELSE '1' END AS cap_lv
    FROM line
    WHERE list_type IN {{list_types}}
      AND pric_uplmt_lv1 IS NOT NULL
      AND inscp_amt > 0
),
over AS (
    SELECT *,
           least(inscp_amt,
                 greatest(0, (pric - cap) * cnt - coalesce(overlmt_selfpay, 0))) AS at_risk
    FROM priced
    WHERE cap IS NOT NULL AND pric > cap + {{tolerance}}
)
SELECT line_key AS hit_key,
       'fee_line' AS entity_type,
       line_key AS entity_id,
       'violating' AS role,
       fixmedins_code, psn_no, setl_id, mdtrt_id, feedetl_sn,
       fee_ocur_time AS line_time,
       round(at_risk, 2) AS amount,
       format('{}「{}」({}) 在{}级医疗机构的限定单价为{}，实际收费单价{}，数量{}；'
              || '超出限价部分{}计入医保范围（医保范围内金额{}）。',
              {{kind_zh}}, med_list_name, med_list_codg, cap_lv, yuan(cap), yuan(pric), printf('%g', cnt),
              yuan(at_risk), yuan(inscp_amt)) AS evidence,
       format('{} "{}" ({}) is capped at {} per unit at a level-{} institution; billed '
              || 'at {} × {}; {} above the cap was claimed in scope (in-scope {}).',
              {{kind_en}}, med_list_name, med_list_codg, yuan(cap), cap_lv, yuan(pric), printf('%g', cnt),
              yuan(at_risk), yuan(inscp_amt)) AS evidence_en,
       round(pric / cap, 3) AS score
FROM over
WHERE at_risk > 0.005
