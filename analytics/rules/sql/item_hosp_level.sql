-- Template: item restricted to institutions of a minimum level (catalogue.lmt_hosp_lv)
-- billed at a lower one. An unrated institution (hosp_lv 9) counts as below level 1; an
-- institution whose level is unknown is not judged. Arg settings: care settings judged
-- (retail pharmacies carry no hospital level). Amount at risk: the line's inscp_amt.
WITH hit AS (
    SELECT *,
           CASE WHEN hosp_lv IN ('1', '2', '3') THEN CAST(hosp_lv AS INTEGER) ELSE 0 END
               AS have_lv
    FROM line
    WHERE lmt_hosp_lv IN ('1', '2', '3')
      AND hosp_lv IS NOT NULL
      AND setting IN {{settings}}
      AND inscp_amt > 0
      AND CASE WHEN hosp_lv IN ('1', '2', '3') THEN CAST(hosp_lv AS INTEGER) ELSE 0 END
          < CAST(lmt_hosp_lv AS INTEGER)
)
SELECT h.line_key AS hit_key,
       'fee_line' AS entity_type,
       h.line_key AS entity_id,
       'violating' AS role,
       h.fixmedins_code, h.psn_no, h.setl_id, h.mdtrt_id, h.feedetl_sn,
       h.fee_ocur_time AS line_time,
       h.inscp_amt AS amount,
       format('{}「{}」({}) 限{}级及以上医疗机构使用，{}({})为{}；医保范围内金额{}。',
              CASE h.list_type WHEN '201' THEN '诊疗项目' WHEN '301' THEN '医用耗材'
                   WHEN '102' THEN '中药饮片' ELSE '药品' END,
              h.med_list_name, h.med_list_codg,
              ['一', '二', '三'][CAST(h.lmt_hosp_lv AS INTEGER)],
              coalesce(v.fixmedins_name, '本机构'), h.fixmedins_code,
              CASE h.have_lv WHEN 0 THEN '未定级机构' ELSE ['一', '二', '三'][h.have_lv] || '级机构'
              END,
              yuan(h.inscp_amt)) AS evidence,
       format('{} "{}" ({}) is restricted to institutions of level {} or higher; {} ({}) is {}; '
              || 'in-scope {}.',
              CASE h.list_type WHEN '201' THEN 'Service' WHEN '301' THEN 'Consumable'
                   WHEN '102' THEN 'Herbal piece' ELSE 'Drug' END,
              h.med_list_name, h.med_list_codg, h.lmt_hosp_lv,
              coalesce(v.fixmedins_name, 'the institution'), h.fixmedins_code,
              CASE h.have_lv WHEN 0 THEN 'unrated' ELSE 'level ' || h.have_lv END,
              yuan(h.inscp_amt)) AS evidence_en
FROM hit h
LEFT JOIN visit v ON v.fixmedins_code = h.fixmedins_code AND v.setl_id = h.setl_id
