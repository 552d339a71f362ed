-- Template (ZB statistical indicators): an institution's monthly cost share of one kind of
-- item, compared with its peers.
--
-- Indicator: for each institution, month (of begntime) and care setting (op / ip / ph),
--   share = Σ inscp_amt of the numerator lines / Σ inscp_amt of all lines
-- where the numerator lines are those whose column {{ident:num_col}} is in {{num_values}}:
-- the catalogue's classification of the item (list_type, med_chrgitm_type, item_group), or
-- the uploaded one for an item the catalogue does not know.
-- Only institution-months with at least {{min_settlements}} settlements in the setting are
-- assessed, and only those serve as peers.
-- Peers: the other institutions of the same month and setting with the same medins_type and
-- hosp_lv; if fewer than {{min_peers}}, all institutions of the same hosp_lv (e.g. township
-- health centres and private clinics together); if still fewer, the institution is not
-- assessed (a kind of institution that is unique in the county, such as the county
-- hospitals, has no in-county benchmark: pooling it with village clinics would flag every
-- CT a hospital does).
-- Flag: share > peer median + max({{k}} × 1.4826 × MAD, {{min_excess}}) (robust tail with an
-- absolute floor, so that a share a few points above identical peers does not fire).
-- Hit: one per institution-month (hit_key fixmedins_code|YYYY-MM) over its flagged
-- settings; involved rows are the settlements that contribute to the numerator (amount 0),
-- and ONE violating row stands for the institution-month (setl_id null) with the amount at
-- risk = Σ over flagged settings of (share − peer median) × the setting's in-scope total:
-- what the institution billed in this kind of item beyond a peer-typical mix.
-- score = the highest flagged share.
WITH l AS NOT MATERIALIZED (
    -- each line with its settlement's month (of begntime) and whether it is a numerator line
    SELECT l.fixmedins_code, l.setl_id, l.setting, l.mdtrt_id, l.psn_no, l.begntime,
           CAST(date_trunc('month', l.begntime) AS DATE) AS month,
           l.medins_type, l.hosp_lv, l.fixmedins_type, l.inscp_amt,
           list_contains({{num_values}}, coalesce(c.{{ident:num_col}}, l.{{ident:num_col}}))
               AS is_num
    FROM line l
    LEFT JOIN kb_catalogue c ON c.med_list_codg = l.med_list_codg
),
-- institution-months straight from the lines (a settlement lies in one month and setting)
im AS (
    SELECT fixmedins_code, setting, month,
           any_value(medins_type) AS mt, any_value(hosp_lv) AS lv,
           any_value(fixmedins_type) AS ft,
           count(DISTINCT setl_id) AS n_setl, sum(inscp_amt) AS tot,
           coalesce(sum(inscp_amt) FILTER (WHERE is_num), 0) AS num,
           coalesce(sum(inscp_amt) FILTER (WHERE is_num), 0) / sum(inscp_amt) AS share
    FROM l
    GROUP BY fixmedins_code, setting, month
    HAVING sum(inscp_amt) > 0 AND count(DISTINCT setl_id) >= {{min_settlements}}
),
pair AS (
    SELECT a.fixmedins_code, a.month, a.setting, b.share AS peer_share,
           a.mt IS NOT DISTINCT FROM b.mt AS same_kind
    FROM im a
    JOIN im b ON b.month = a.month AND b.setting = a.setting
        AND b.ft IS NOT DISTINCT FROM a.ft AND b.lv IS NOT DISTINCT FROM a.lv
        AND b.fixmedins_code <> a.fixmedins_code
),
lvl AS (
    SELECT fixmedins_code, month, setting,
           CASE WHEN count(*) FILTER (WHERE same_kind) >= {{min_peers}} THEN 1
                WHEN count(*) >= {{min_peers}} THEN 2 END AS lvl
    FROM pair
    GROUP BY ALL
),
peer AS (
    SELECT p.fixmedins_code, p.month, p.setting, p.peer_share, l.lvl
    FROM pair p
    JOIN lvl l USING (fixmedins_code, month, setting)
    WHERE l.lvl = 2 OR (l.lvl = 1 AND p.same_kind)
),
med AS (
    SELECT fixmedins_code, month, setting, any_value(lvl) AS lvl, count(*) AS n_peers,
           median(peer_share) AS med
    FROM peer
    GROUP BY ALL
),
stat AS (
    SELECT m.fixmedins_code, m.month, m.setting, m.lvl, m.n_peers, m.med,
           1.4826 * median(abs(p.peer_share - m.med)) AS sigma
    FROM med m
    JOIN peer p USING (fixmedins_code, month, setting)
    GROUP BY ALL
),
flag AS (
    SELECT i.*, t.lvl, t.n_peers, t.med, t.sigma,
           t.med + greatest({{k}} * t.sigma, {{min_excess}}) AS thr,
           round((i.share - t.med) * i.tot, 2) AS excess,
           CASE i.setting WHEN 'op' THEN '门诊' WHEN 'ip' THEN '住院' ELSE '药店购药' END
               AS setting_zh,
           CASE i.setting WHEN 'op' THEN 'outpatient' WHEN 'ip' THEN 'inpatient'
               ELSE 'pharmacy' END AS setting_en,
           CASE i.mt WHEN 'A1' THEN '综合医院' WHEN 'A2' THEN '中医医院'
               WHEN 'A3' THEN '妇幼保健院' WHEN 'B1' THEN '乡镇卫生院' WHEN 'C1' THEN '村卫生室'
               WHEN 'C2' THEN '民营诊所' WHEN 'D1' THEN '零售药店'
               ELSE coalesce(i.mt, '未分类') END AS mt_zh,
           CASE i.mt WHEN 'A1' THEN 'general hospitals' WHEN 'A2' THEN 'TCM hospitals'
               WHEN 'A3' THEN 'maternal and child health hospitals'
               WHEN 'B1' THEN 'township health centres' WHEN 'C1' THEN 'village clinics'
               WHEN 'C2' THEN 'private clinics' WHEN 'D1' THEN 'retail pharmacies'
               ELSE coalesce(i.mt, 'unclassified') END AS mt_en,
           CASE i.lv WHEN '1' THEN '一级' WHEN '2' THEN '二级' WHEN '3' THEN '三级'
               WHEN '9' THEN '未定级' ELSE '无等级' END AS lv_zh,
           CASE i.lv WHEN '1' THEN 'level 1' WHEN '2' THEN 'level 2' WHEN '3' THEN 'level 3'
               WHEN '9' THEN 'unrated' ELSE 'no level' END AS lv_en
    FROM im i
    JOIN stat t USING (fixmedins_code, month, setting)
    WHERE i.share > t.med + greatest({{k}} * t.sigma, {{min_excess}})
),
hit AS (
    SELECT fixmedins_code, month,
           fixmedins_code || '|' || strftime(month, '%Y-%m') AS hit_key,
           max(share) AS score,
           round(sum(excess), 2) AS amount,
           string_agg(format(
               '{} {}{} {}（{}{} / 医保范围内总额{}，{}笔结算）；同类机构（{}，{}家）中位数 {}，'
               || '阈值 {}（中位数 + {}×稳健标准差，且至少高出 {}）；'
               || '按同类中位数计，多出的{}金额 {}',
               strftime(month, '%Y-%m'), setting_zh, {{ind_zh}},
               printf('%.1f%%', 100 * share), {{num_zh}}, yuan(num), yuan(tot), n_setl,
               CASE lvl WHEN 1 THEN lv_zh || mt_zh ELSE '同级（' || lv_zh || '）各类机构' END,
               n_peers, printf('%.1f%%', 100 * med), printf('%.1f%%', 100 * thr),
               {{k}}, printf('%.1f 个百分点', 100 * {{min_excess}}),
               {{num_zh}}, yuan(excess)), '；' ORDER BY setting) AS evidence,
           string_agg(format(
               '{} {} {}: {} ({} {} of {} in-scope, {} settlements); peers ({}, {}) median {}, '
               || 'threshold {} (median + {} x robust SD, at least {} points above); '
               || 'beyond the peer median: {} {}',
               strftime(month, '%Y-%m'), setting_en, {{ind_en}},
               printf('%.1f%%', 100 * share), {{num_en}}, yuan(num), yuan(tot), n_setl,
               CASE lvl WHEN 1 THEN lv_en || ' ' || mt_en
                   ELSE 'all ' || lv_en || ' institutions' END,
               n_peers, printf('%.1f%%', 100 * med), printf('%.1f%%', 100 * thr),
               {{k}}, printf('%.1f', 100 * {{min_excess}}),
               yuan(excess), {{num_en}}), '; ' ORDER BY setting) AS evidence_en
    FROM flag
    GROUP BY fixmedins_code, month
),
-- the settlements of the flagged institution-months (few)
s AS (
    SELECT l.fixmedins_code, l.setl_id, l.setting,
           any_value(l.mdtrt_id) AS mdtrt_id, any_value(l.psn_no) AS psn_no,
           min(l.begntime) AS begntime,
           coalesce(sum(l.inscp_amt) FILTER (WHERE l.is_num), 0) AS num
    FROM l
    SEMI JOIN flag f ON f.fixmedins_code = l.fixmedins_code AND f.setting = l.setting
        AND f.month = l.month
    GROUP BY l.fixmedins_code, l.setl_id, l.setting
),
involved AS (
    SELECT h.hit_key, s.fixmedins_code, s.psn_no, s.setl_id, s.mdtrt_id,
           s.begntime AS line_time, h.evidence, h.evidence_en, h.score
    FROM s
    JOIN flag f ON f.fixmedins_code = s.fixmedins_code AND f.setting = s.setting
        AND f.month = CAST(date_trunc('month', s.begntime) AS DATE)
    JOIN hit h ON h.fixmedins_code = s.fixmedins_code AND h.month = f.month
    WHERE s.num > 0
)
SELECT hit_key, 'institution' AS entity_type, fixmedins_code AS entity_id,
       'violating' AS role, fixmedins_code,
       CAST(NULL AS VARCHAR) AS psn_no, CAST(NULL AS VARCHAR) AS setl_id,
       CAST(NULL AS VARCHAR) AS mdtrt_id, CAST(NULL AS VARCHAR) AS feedetl_sn,
       CAST(month AS TIMESTAMP) AS line_time, amount, evidence, evidence_en, score
FROM hit
UNION ALL
SELECT hit_key, 'institution', fixmedins_code, 'involved', fixmedins_code, psn_no, setl_id,
       mdtrt_id, NULL, line_time, 0.0, evidence, evidence_en, score
FROM involved
