-- Template (ZB statistical indicator): 31-day unplanned readmission rate per institution and
-- month of discharge, compared with its peers.
--
-- A stay is one inpatient mdtrt_id at one institution (a long stay may settle in parts).
-- A stay is *planned* when one of its settlements is of a treatment class in
-- {{planned_classes}} (chemotherapy and radiotherapy cycles, dialysis, maternity,
-- rehabilitation: analytics/knowledge/treatment_class.csv, told by what was treated, not a
-- code alone): care booked in advance. A transfer — the next stay at another institution of
-- a higher level, admitted on the day of discharge (macro transfer_up) — is a referral up,
-- not a readmission.
-- Indicator: for the stays an institution discharged in a month (denominator), the share
-- whose next stay of the same person, at ANY institution, is unplanned, for the same or a
-- related condition (the national indicator's 因相同或相关疾病: the same ICD-10 category or
-- diagnosis group, macro same_condition, as 分解住院 asks) and admitted 0–{{days}} days
-- after the discharge date (and not before the discharge time). Each readmission counts
-- once, for the discharge just before it.
-- Institution-months with fewer than {{min_discharges}} discharges are neither assessed nor
-- peers. Peers: other institutions of the same month with the same medins_type and hosp_lv;
-- if fewer than {{min_peers}}, all of the same hosp_lv; if still fewer, all medical
-- institutions with inpatient care (a readmission rate, unlike a cost mix, is comparable
-- across kinds of hospital); else not assessed.
-- Flag: rate > peer median + max({{k}} × 1.4826 × MAD, {{min_excess}}).
-- Hit: one per institution-month (hit_key fixmedins_code|YYYY-MM). Involved rows: the
-- settlements of each readmitted stay and of its readmission (amount 0). ONE violating row
-- (setl_id null) carries the amount at risk = excess readmissions over the peer median
-- rate ((rate − median) × discharges) × the mean in-scope amount of the institution's
-- readmission stays in that month. score = the rate.
WITH ip AS (
    SELECT fixmedins_code, mdtrt_id, any_value(psn_no) AS psn_no,
           min(begntime) AS adm, max(endtime) AS dis, sum(inscp_amt) AS inscp,
           arg_max(dise_codg, endtime) AS dise_codg, arg_max(dise_group, endtime) AS dise_group,
           any_value(medins_type) AS mt, any_value(hosp_lv) AS lv,
           any_value(fixmedins_type) AS ft,
           coalesce(bool_or(list_contains({{planned_classes}}, treatment_class)), false) AS planned
    FROM visit
    WHERE setting = 'ip'
    GROUP BY fixmedins_code, mdtrt_id
),
stay AS (
    SELECT ip.*, ip.fixmedins_code || '|' || ip.mdtrt_id AS stay_key FROM ip
),
nxt AS (
    SELECT *,
           lead(adm) OVER w AS r_adm, lead(stay_key) OVER w AS r_key,
           lead(planned) OVER w AS r_planned,
           lead(dise_codg) OVER w AS r_dise_codg, lead(dise_group) OVER w AS r_dise_group,
           lead(fixmedins_code) OVER w AS r_inst, lead(lv) OVER w AS r_lv
    FROM stay
    WINDOW w AS (PARTITION BY psn_no ORDER BY adm, stay_key)
),
idx AS (
    SELECT *, CAST(date_trunc('month', dis) AS DATE) AS month,
           r_adm IS NOT NULL AND NOT r_planned AND r_adm >= dis
               AND date_diff('day', CAST(dis AS DATE), CAST(r_adm AS DATE)) <= {{days}}
               AND same_condition(dise_codg, dise_group, r_dise_codg, r_dise_group)
               AND NOT transfer_up(fixmedins_code, lv, dis, r_inst, r_lv, r_adm)
               AS readmitted
    FROM nxt
),
pair_stay AS (
    -- each readmitted stay with its readmission (the next stay)
    SELECT i.fixmedins_code, i.month, i.mdtrt_id, r.fixmedins_code AS r_inst,
           r.mdtrt_id AS r_mdtrt, r.inscp AS r_inscp
    FROM idx i
    JOIN stay r ON r.stay_key = i.r_key
    WHERE i.readmitted
),
im AS (
    SELECT i.fixmedins_code, i.month, any_value(i.mt) AS mt, any_value(i.lv) AS lv,
           any_value(i.ft) AS ft, count(*) AS n_dis,
           count(*) FILTER (WHERE i.readmitted) AS n_re,
           count(*) FILTER (WHERE i.readmitted) / count(*) AS rate
    FROM idx i
    GROUP BY i.fixmedins_code, i.month
    HAVING count(*) >= {{min_discharges}}
),
pair AS (
    SELECT a.fixmedins_code, a.month, b.rate AS peer_rate,
           a.mt IS NOT DISTINCT FROM b.mt AND a.lv IS NOT DISTINCT FROM b.lv AS same_kind,
           a.lv IS NOT DISTINCT FROM b.lv AS same_level
    FROM im a
    JOIN im b ON b.month = a.month AND b.ft IS NOT DISTINCT FROM a.ft
        AND b.fixmedins_code <> a.fixmedins_code
),
lvl AS (
    SELECT fixmedins_code, month,
           CASE WHEN count(*) FILTER (WHERE same_kind) >= {{min_peers}} THEN 1
                WHEN count(*) FILTER (WHERE same_level) >= {{min_peers}} THEN 2
                WHEN count(*) >= {{min_peers}} THEN 3 END AS lvl
    FROM pair
    GROUP BY ALL
),
peer AS (
    SELECT p.fixmedins_code, p.month, p.peer_rate, l.lvl
    FROM pair p
    JOIN lvl l USING (fixmedins_code, month)
    WHERE l.lvl = 3 OR (l.lvl = 2 AND p.same_level) OR (l.lvl = 1 AND p.same_kind)
),
med AS (
    SELECT fixmedins_code, month, any_value(lvl) AS lvl, count(*) AS n_peers,
           median(peer_rate) AS med
    FROM peer
    GROUP BY ALL
),
stat AS (
    SELECT m.fixmedins_code, m.month, m.lvl, m.n_peers, m.med,
           1.4826 * median(abs(p.peer_rate - m.med)) AS sigma
    FROM med m
    JOIN peer p USING (fixmedins_code, month)
    GROUP BY ALL
),
cost AS (
    SELECT fixmedins_code, month, avg(r_inscp) AS r_mean
    FROM pair_stay
    GROUP BY ALL
),
hit AS (
    SELECT i.fixmedins_code, i.month, i.n_dis, i.n_re, i.rate, t.lvl, t.n_peers, t.med,
           t.med + greatest({{k}} * t.sigma, {{min_excess}}) AS thr,
           (i.rate - t.med) * i.n_dis AS excess_n, c.r_mean,
           round((i.rate - t.med) * i.n_dis * c.r_mean, 2) AS amount,
           i.fixmedins_code || '|' || strftime(i.month, '%Y-%m') AS hit_key,
           CASE t.lvl WHEN 1 THEN
               CASE i.lv WHEN '1' THEN '一级' WHEN '2' THEN '二级' WHEN '3' THEN '三级'
                   WHEN '9' THEN '未定级' ELSE '' END
               || CASE i.mt WHEN 'A1' THEN '综合医院' WHEN 'A2' THEN '中医医院'
                   WHEN 'A3' THEN '妇幼保健院' WHEN 'B1' THEN '乡镇卫生院'
                   WHEN 'C1' THEN '村卫生室' WHEN 'C2' THEN '民营诊所'
                   ELSE coalesce(i.mt, '未分类') END
               WHEN 2 THEN '同级（' || CASE i.lv WHEN '1' THEN '一级' WHEN '2' THEN '二级'
                   WHEN '3' THEN '三级' WHEN '9' THEN '未定级' ELSE '无等级' END || '）各类机构'
               ELSE '全部有住院服务的定点医疗机构' END AS group_zh,
           CASE t.lvl WHEN 1 THEN
               CASE i.lv WHEN '1' THEN 'level 1' WHEN '2' THEN 'level 2'
                   WHEN '3' THEN 'level 3' WHEN '9' THEN 'unrated' ELSE '' END || ' '
               || CASE i.mt WHEN 'A1' THEN 'general hospitals' WHEN 'A2' THEN 'TCM hospitals'
                   WHEN 'A3' THEN 'maternal and child health hospitals'
                   WHEN 'B1' THEN 'township health centres' WHEN 'C1' THEN 'village clinics'
                   WHEN 'C2' THEN 'private clinics' ELSE coalesce(i.mt, 'unclassified') END
               WHEN 2 THEN 'all ' || CASE i.lv WHEN '1' THEN 'level 1' WHEN '2' THEN 'level 2'
                   WHEN '3' THEN 'level 3' WHEN '9' THEN 'unrated' ELSE 'unlevelled' END
                   || ' institutions'
               ELSE 'all institutions with inpatient care' END AS group_en
    FROM im i
    JOIN stat t USING (fixmedins_code, month)
    JOIN cost c USING (fixmedins_code, month)
    WHERE i.rate > t.med + greatest({{k}} * t.sigma, {{min_excess}})
),
ev AS (
    SELECT *,
           format('{} 出院{}人次，其中{}人次在出院后{}天内非计划再入院（任一机构，已排除化疗、放疗、透析等计划住院），'
                  || '非计划再入院率 {}；同类机构（{}，{}家）中位数 {}，阈值 {}（中位数 + {}×稳健标准差，'
                  || '且至少高出 {}）；按同类中位数计多出约 {} 人次，以本机构再入院平均医保范围内金额 {} 计，合计 {}',
                  strftime(month, '%Y-%m'), n_dis, n_re, {{days}}, printf('%.1f%%', 100 * rate),
                  group_zh, n_peers, printf('%.1f%%', 100 * med), printf('%.1f%%', 100 * thr),
                  {{k}}, printf('%.1f 个百分点', 100 * {{min_excess}}), printf('%.1f', excess_n),
                  yuan(r_mean), yuan(amount)) AS evidence,
           format('{}: {} discharges, {} followed within {} days by an unplanned readmission '
                  || '(any institution; chemotherapy, radiotherapy and dialysis cycles excluded): '
                  || 'rate {}; peers ({}, {}) median {}, threshold {} (median + {} x robust SD, '
                  || 'at least {} points above); about {} readmissions beyond the peer median, '
                  || 'at the mean in-scope readmission cost {}: {}',
                  strftime(month, '%Y-%m'), n_dis, n_re, {{days}}, printf('%.1f%%', 100 * rate),
                  group_en, n_peers, printf('%.1f%%', 100 * med), printf('%.1f%%', 100 * thr),
                  {{k}}, printf('%.1f', 100 * {{min_excess}}), printf('%.1f', excess_n),
                  yuan(r_mean), yuan(amount)) AS evidence_en
    FROM hit
),
stay_of_hit AS (
    -- the readmitted stays and their readmissions, each once per hit
    SELECT e.hit_key, e.fixmedins_code AS inst, ps.fixmedins_code AS s_inst, ps.mdtrt_id
    FROM ev e JOIN pair_stay ps ON ps.fixmedins_code = e.fixmedins_code AND ps.month = e.month
    UNION
    SELECT e.hit_key, e.fixmedins_code, ps.r_inst, ps.r_mdtrt
    FROM ev e JOIN pair_stay ps ON ps.fixmedins_code = e.fixmedins_code AND ps.month = e.month
),
involved AS (
    SELECT h.hit_key, h.inst, v.fixmedins_code, v.psn_no, v.setl_id, v.mdtrt_id,
           v.begntime AS line_time, e.evidence, e.evidence_en, e.rate
    FROM stay_of_hit h
    JOIN visit v ON v.fixmedins_code = h.s_inst AND v.mdtrt_id = h.mdtrt_id
    JOIN ev e ON e.hit_key = h.hit_key
)
SELECT hit_key, 'institution' AS entity_type, fixmedins_code AS entity_id,
       'violating' AS role, fixmedins_code,
       CAST(NULL AS VARCHAR) AS psn_no, CAST(NULL AS VARCHAR) AS setl_id,
       CAST(NULL AS VARCHAR) AS mdtrt_id, CAST(NULL AS VARCHAR) AS feedetl_sn,
       CAST(month AS TIMESTAMP) AS line_time, amount, evidence, evidence_en, rate AS score
FROM ev
UNION ALL
SELECT hit_key, 'institution', inst, 'involved', fixmedins_code, psn_no, setl_id, mdtrt_id,
       NULL, line_time, 0.0, evidence, evidence_en, rate
FROM involved
