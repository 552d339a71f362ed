-- Template: daily items (bed, nursing) billed for more days than the stay lasted. A stay is
-- one mdtrt_id; its length is the calendar days from admission to discharge. Cap N = stay
-- days + {{tolerance_days}} (a day counted at both ends). Amount at risk on the kind's lines:
-- inscp_amt × (Σcnt − N) / Σcnt, spread over them in proportion. The kinds are the items'
-- charge item types (med_chrgitm_type 01 床位费, 07 护理费), so a centre's catalogue without
-- our item groups serves as well. Args, parallel lists per kind: chrgitm_types, keys (the
-- kind's name in the hit key), name_patterns (a regular expression on the item's name
-- picking the items billed once a day: the nursing grades 特/Ⅰ/Ⅱ/Ⅲ级护理, not 新生儿沐浴),
-- kind_zh, kind_en.
WITH stay AS (
    SELECT fixmedins_code, mdtrt_id,
           min(begntime) AS adm, max(endtime) AS dis,
           date_diff('day', CAST(min(begntime) AS DATE), CAST(max(endtime) AS DATE)) AS days
    FROM visit
    WHERE setting = 'ip'
    GROUP BY fixmedins_code, mdtrt_id
),
-- the names billed once a day, matched once per name (not on every line)
-- (the pattern's position is an aggregate, so the match cannot be pushed down to the lines)
daily AS (
    SELECT item_chrgitm_type, med_list_name
    FROM (SELECT item_chrgitm_type, med_list_name,
                 any_value(list_position({{chrgitm_types}}, item_chrgitm_type)) AS pos
          FROM line
          WHERE item_chrgitm_type IN {{chrgitm_types}}
          GROUP BY item_chrgitm_type, med_list_name)
    WHERE regexp_matches(coalesce(med_list_name, ''), {{name_patterns}}[pos])
),
grp AS (
    SELECT l.fixmedins_code, l.mdtrt_id, l.item_chrgitm_type,
           sum(l.cnt) AS total_cnt, sum(l.inscp_amt) AS total_amt,
           string_agg(DISTINCT l.med_list_name || '(' || l.med_list_codg || ')', '、'
                      ORDER BY l.med_list_name || '(' || l.med_list_codg || ')') AS items
    FROM line l
    SEMI JOIN daily n ON n.item_chrgitm_type = l.item_chrgitm_type
                     AND n.med_list_name IS NOT DISTINCT FROM l.med_list_name
    WHERE l.setting = 'ip' AND l.item_chrgitm_type IN {{chrgitm_types}}
    GROUP BY l.fixmedins_code, l.mdtrt_id, l.item_chrgitm_type
),
hit AS (
    SELECT g.*, s.adm, s.dis, s.days, s.days + {{tolerance_days}} AS cap,
           {{keys}}[list_position({{chrgitm_types}}, g.item_chrgitm_type)] AS kind_key,
           {{kind_zh}}[list_position({{chrgitm_types}}, g.item_chrgitm_type)] AS kind_zh,
           {{kind_en}}[list_position({{chrgitm_types}}, g.item_chrgitm_type)] AS kind_en,
           g.total_amt * (g.total_cnt - (s.days + {{tolerance_days}})) / g.total_cnt AS risk
    FROM grp g
    JOIN stay s ON s.fixmedins_code = g.fixmedins_code AND s.mdtrt_id = g.mdtrt_id
    WHERE g.total_cnt > s.days + {{tolerance_days}}
)
SELECT h.fixmedins_code || '|' || h.mdtrt_id || '|' || h.kind_key AS hit_key,
       'settlement' AS entity_type,
       h.fixmedins_code || '|' || h.mdtrt_id AS entity_id,
       'violating' AS role,
       l.fixmedins_code, l.psn_no, l.setl_id, l.mdtrt_id, l.feedetl_sn,
       l.fee_ocur_time AS line_time,
       CASE WHEN h.total_amt = 0 THEN 0 ELSE h.risk * l.inscp_amt / h.total_amt END AS amount,
       format('住院{}至{}共{}天，{}「{}」合计计费{:g}天（次），超过住院天数+{}={}天，'
              || '多计{:g}天；{}合计医保范围内金额{}，按比例超出部分{}。',
              day_of(h.adm), day_of(h.dis), h.days, h.kind_zh, h.items,
              CAST(h.total_cnt AS DOUBLE), {{tolerance_days}}, h.cap,
              CAST(h.total_cnt - h.cap AS DOUBLE), h.kind_zh,
              yuan(h.total_amt), yuan(h.risk)) AS evidence,
       format('Stay {} to {} lasted {} days but {} "{}" was billed for {:g} days, over the stay '
              || 'days + {} = {}: {:g} days too many; in-scope {} of {}, the excess share {}.',
              day_of(h.adm), day_of(h.dis), h.days, h.kind_en, h.items,
              CAST(h.total_cnt AS DOUBLE), {{tolerance_days}}, h.cap,
              CAST(h.total_cnt - h.cap AS DOUBLE), yuan(h.total_amt), h.kind_en,
              yuan(h.risk)) AS evidence_en,
       CAST(h.total_cnt - h.cap AS DOUBLE) AS score
FROM hit h
JOIN line l ON l.fixmedins_code = h.fixmedins_code AND l.mdtrt_id = h.mdtrt_id
           AND l.item_chrgitm_type = h.item_chrgitm_type
SEMI JOIN daily n ON n.item_chrgitm_type = l.item_chrgitm_type
                 AND n.med_list_name IS NOT DISTINCT FROM l.med_list_name
