-- Template: readmission to the same institution within {{days}} days of discharge for the
-- same or a closely related condition (分解住院). A stay is one mdtrt_id (a long stay may
-- settle in several parts). The condition is the main diagnosis: the same ICD-10 category
-- (first three characters) or the same diagnosis group where the knowledge has one
-- (macro same_condition); a readmission for an unrelated problem — COPD a week after a stay
-- for hypertension — is new care, not the first stay split. A missing diagnosis cannot show
-- the conditions differ: the readmission stays a lead. The second stay's settlements are
-- violating (amount at risk: their inscp_amt), the first stay's are involved. A
-- readmission next to a planned stay — either stay of a treatment class in
-- {{planned_classes}} (chemotherapy and radiotherapy cycles, dialysis, maternity,
-- rehabilitation: analytics/knowledge/treatment_class.csv) — is booked care, not a split.
-- The classes are told by what was treated, not by a code alone: a stay coded Z51.1 with
-- no anticancer drug, chemotherapy or radiotherapy on its bill is no planned cycle, and its
-- readmission stays a lead.
-- A stay's diagnosis is its last settlement's (ties by setl_id, not by row order).
WITH stay AS (
    SELECT fixmedins_code, mdtrt_id, psn_no,
           min(begntime) AS adm, max(endtime) AS dis,
           arg_max(dise_codg, (endtime, setl_id)) AS dise_codg,
           arg_max(dise_name, (endtime, setl_id)) AS dise_name,
           arg_max(dise_group, (endtime, setl_id)) AS dise_group,
           sum(inscp_amt) AS inscp,
           coalesce(bool_or(list_contains({{planned_classes}}, treatment_class)), false) AS planned
    FROM visit
    WHERE setting = 'ip'
    GROUP BY fixmedins_code, mdtrt_id, psn_no
),
seq AS (
    SELECT *,
           lag(mdtrt_id) OVER w AS prev_mdtrt_id,
           lag(adm) OVER w AS prev_adm,
           lag(dis) OVER w AS prev_dis,
           lag(dise_codg) OVER w AS prev_dise_codg,
           lag(dise_name) OVER w AS prev_dise_name,
           lag(dise_group) OVER w AS prev_dise_group,
           lag(planned) OVER w AS prev_planned
    FROM stay
    WINDOW w AS (PARTITION BY psn_no, fixmedins_code ORDER BY adm, mdtrt_id)
),
hit AS (
    SELECT *, date_diff('day', CAST(prev_dis AS DATE), CAST(adm AS DATE)) AS gap
    FROM seq
    WHERE prev_mdtrt_id IS NOT NULL AND NOT prev_planned AND NOT planned
      AND date_diff('day', CAST(prev_dis AS DATE), CAST(adm AS DATE)) BETWEEN 0 AND {{days}}
      AND same_condition(prev_dise_codg, prev_dise_group, dise_codg, dise_group)
),
text AS (
    SELECT *,
           format('参保人{}出院后{}天内因相同或相关疾病在同一机构再次住院：'
                  || '第一次{}至{}（{} {}），第二次{}至{}（{} {}），'
                  || '间隔{}天，不超过{}天，疑似分解住院；第二次住院医保范围内金额{}。',
                  psn_no, {{days}}, day_of(prev_adm), day_of(prev_dis), prev_dise_codg,
                  prev_dise_name, day_of(adm), day_of(dis), dise_codg, dise_name, gap, {{days}},
                  yuan(inscp)) AS evidence,
           format('Person {} was readmitted to the same institution for the same or a related '
                  || 'condition within {} days of discharge: '
                  || 'first stay {} to {} ({} {}), second stay {} to {} ({} {}), {} days apart; '
                  || 'suspected split admission; in-scope amount of the second stay {}.',
                  psn_no, {{days}}, day_of(prev_adm), day_of(prev_dis), prev_dise_codg,
                  prev_dise_name, day_of(adm), day_of(dis), dise_codg, dise_name, gap,
                  yuan(inscp)) AS evidence_en
    FROM hit
),
member AS (
    SELECT *, mdtrt_id AS member_id, 'violating' AS role FROM text
    UNION ALL
    SELECT *, prev_mdtrt_id AS member_id, 'involved' AS role FROM text
)
SELECT m.fixmedins_code || '|' || m.mdtrt_id AS hit_key,
       'settlement' AS entity_type,
       m.fixmedins_code || '|' || m.mdtrt_id AS entity_id,
       m.role,
       v.fixmedins_code, v.psn_no, v.setl_id, v.mdtrt_id, NULL AS feedetl_sn,
       v.begntime AS line_time,
       CASE WHEN m.role = 'violating' THEN v.inscp_amt ELSE 0 END AS amount,
       m.evidence, m.evidence_en,
       CAST(m.gap AS DOUBLE) AS score
FROM member m
JOIN visit v ON v.fixmedins_code = m.fixmedins_code AND v.mdtrt_id = m.member_id
