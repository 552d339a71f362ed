-- Template: item restricted by the patient's age, billed outside it. Age is the patient's
-- age in days at the start of the visit (line.age_days, from the birth date), so a newborn
-- admitted at 20 days keeps newborn care for the whole stay.
-- Arg mode: 'band' = catalogue lmt_age_min_days / lmt_age_max_days (allowed band, both ends
-- included: 28 = newborn, 6570 = child, 21900 = aged 60 and over);
-- 'forbid' = catalogue forbid_age_max_days (forbidden at that age in days or younger).
-- Amount at risk: the line's inscp_amt.
WITH hit AS (
    SELECT *,
           CASE WHEN {{mode}} = 'forbid'
                THEN format('禁用于{}及以下患者', age_zh(forbid_age_max_days))
                WHEN lmt_age_min_days IS NULL
                THEN format('限{}及以下患者使用', age_zh(lmt_age_max_days))
                WHEN lmt_age_max_days IS NULL
                THEN format('限{}及以上患者使用', age_zh(lmt_age_min_days))
                ELSE format('限{}至{}患者使用', age_zh(lmt_age_min_days),
                            age_zh(lmt_age_max_days))
           END AS rule_zh,
           CASE WHEN {{mode}} = 'forbid'
                THEN format('is forbidden for patients aged {} or younger',
                            age_en(forbid_age_max_days))
                WHEN lmt_age_min_days IS NULL
                THEN format('is restricted to patients aged {} or younger',
                            age_en(lmt_age_max_days))
                WHEN lmt_age_max_days IS NULL
                THEN format('is restricted to patients aged {} or older',
                            age_en(lmt_age_min_days))
                ELSE format('is restricted to patients aged {} to {}',
                            age_en(lmt_age_min_days), age_en(lmt_age_max_days))
           END AS rule_en,
           CASE list_type WHEN '201' THEN '诊疗项目' WHEN '301' THEN '医用耗材'
                WHEN '102' THEN '中药饮片' ELSE '药品' END AS kind_zh,
           CASE list_type WHEN '201' THEN 'Service' WHEN '301' THEN 'Consumable'
                WHEN '102' THEN 'Herbal piece' ELSE 'Drug' END AS kind_en
    FROM line
    WHERE age_days IS NOT NULL
      AND inscp_amt > 0
      AND list_type IN {{list_types}}
      AND CASE WHEN {{mode}} = 'forbid'
               THEN age_days <= forbid_age_max_days
               ELSE age_days < lmt_age_min_days OR age_days > lmt_age_max_days
          END
)
SELECT line_key AS hit_key,
       'fee_line' AS entity_type,
       line_key AS entity_id,
       'violating' AS role,
       fixmedins_code, psn_no, setl_id, mdtrt_id, feedetl_sn,
       fee_ocur_time AS line_time,
       inscp_amt AS amount,
       format('{}「{}」({}) {}，患者就诊时年龄{}({}天)；医保范围内金额{}。',
              kind_zh, med_list_name, med_list_codg, rule_zh, age_zh(age_days), age_days,
              yuan(inscp_amt)) AS evidence,
       format('{} "{}" ({}) {}; the patient was {} ({} days) at the visit; in-scope {}.',
              kind_en, med_list_name, med_list_codg, rule_en, age_en(age_days), age_days,
              yuan(inscp_amt)) AS evidence_en
FROM hit
