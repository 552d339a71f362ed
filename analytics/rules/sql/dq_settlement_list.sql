-- Template: a settlement (医保结算清单) with missing or inconsistent fields: no main
-- diagnosis, a diagnosis code without its name, begin after end, settled before it began,
-- an inpatient or outpatient settlement without department or attending doctor, negative
-- or null total, in-scope above the total, payments not adding up to the total.
-- ipt_days is not checked: most uploads leave it empty, and stay_days is derived anyway.
-- A retail pharmacy purchase (setting ph, med_type 41) is not asked for a diagnosis: the
-- pharmacy sells over the counter or on an outside prescription and records none by
-- nature (in one county 4,333 such purchases were false "main diagnosis missing" leads).
-- Params: tolerance (¥ for the amount checks). One hit per settlement listing every
-- problem; amount at risk 0 (a record problem, not money paid wrongly).
WITH v AS (
    SELECT visit_key, fixmedins_code, psn_no, setl_id, mdtrt_id, begntime, setl_time,
           list_filter([
               CASE WHEN nullif(trim(dise_codg), '') IS NULL AND setting <> 'ph'
                    THEN ['主诊断编码缺失', 'main diagnosis code missing'] END,
               CASE WHEN nullif(trim(dise_codg), '') IS NOT NULL
                         AND nullif(trim(dise_name), '') IS NULL
                    THEN ['主诊断名称缺失', 'main diagnosis name missing'] END,
               CASE WHEN med_type IS NULL THEN ['医疗类别缺失', 'med_type missing'] END,
               CASE WHEN begntime IS NULL THEN ['开始时间缺失', 'begin time missing'] END,
               CASE WHEN endtime IS NULL THEN ['结束时间缺失', 'end time missing'] END,
               CASE WHEN begntime > endtime
                    THEN ['开始时间' || strftime(begntime, '%Y-%m-%d %H:%M') || '晚于结束时间'
                              || strftime(endtime, '%Y-%m-%d %H:%M'),
                          'begins ' || strftime(begntime, '%Y-%m-%d %H:%M') || ' after it ends '
                              || strftime(endtime, '%Y-%m-%d %H:%M')] END,
               CASE WHEN setl_time < begntime
                    THEN ['结算时间' || strftime(setl_time, '%Y-%m-%d %H:%M') || '早于开始时间',
                          'settled ' || strftime(setl_time, '%Y-%m-%d %H:%M') || ' before it began'] END,
               CASE WHEN setting = 'ip' AND nullif(trim(adm_dept_codg), '') IS NULL
                    THEN ['住院结算缺少入院科室', 'inpatient settlement without admitting department'] END,
               CASE WHEN setting IN ('ip', 'op') AND nullif(trim(chfpdr_code), '') IS NULL
                    THEN ['缺少主诊医师', 'no attending doctor'] END,
               CASE WHEN medfee_sumamt IS NULL OR medfee_sumamt < 0
                    THEN ['医疗费总额缺失或为负(' || coalesce(yuan(medfee_sumamt), '空') || ')',
                          'total missing or negative (' || coalesce(yuan(medfee_sumamt), 'null') || ')'] END,
               CASE WHEN inscp_amt > medfee_sumamt + {{tolerance}}
                    THEN ['医保范围内金额' || yuan(inscp_amt) || '大于医疗费总额' || yuan(medfee_sumamt),
                          'in-scope ' || yuan(inscp_amt) || ' exceeds the total ' || yuan(medfee_sumamt)] END,
               CASE WHEN abs(coalesce(fund_pay_sumamt, 0) + coalesce(acct_pay, 0)
                             + coalesce(psn_cash_pay, 0) - medfee_sumamt) > {{tolerance}}
                    THEN ['基金支付' || yuan(coalesce(fund_pay_sumamt, 0)) || '+个人账户'
                              || yuan(coalesce(acct_pay, 0)) || '+个人现金'
                              || yuan(coalesce(psn_cash_pay, 0)) || '≠医疗费总额' || yuan(medfee_sumamt),
                          'fund ' || yuan(coalesce(fund_pay_sumamt, 0)) || ' + account '
                              || yuan(coalesce(acct_pay, 0)) || ' + cash '
                              || yuan(coalesce(psn_cash_pay, 0)) || ' ≠ total ' || yuan(medfee_sumamt)] END
           ], lambda x: x IS NOT NULL) AS problems
    FROM visit
)
SELECT visit_key AS hit_key,
       'settlement' AS entity_type,
       visit_key AS entity_id,
       'violating' AS role,
       fixmedins_code, psn_no, setl_id, mdtrt_id, NULL AS feedetl_sn,
       coalesce(begntime, setl_time) AS line_time,
       0.0 AS amount,
       format('结算清单信息异常（结算{}）：{}。', setl_id,
              array_to_string(list_transform(problems, lambda x: x[1]), '；')) AS evidence,
       format('Settlement list anomaly (settlement {}): {}.', setl_id,
              array_to_string(list_transform(problems, lambda x: x[2]), '; ')) AS evidence_en
FROM v
WHERE len(problems) > 0
