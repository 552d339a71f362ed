-- Template: an enrolment filing without a document its kind requires (申报材料不全).
-- Params: recent_months, how far back from the newest filing filings are checked.
-- Args: required, a list of 'kind:document' (e.g. '11:02': an enrolment needs the labour
-- contract), codes as codes.EVT_TYPE and codes.DOC_TYPE. The filed documents are read
-- from insu_event.docs, codes (or their names, 劳动合同) separated by ; , ； ， 、 or spaces.
-- The filing is the one violating line; nothing is paid on it, so its amount is 0 (the
-- request is to complete it).
WITH req AS (
    SELECT split_part(r, ':', 1) AS evt_type, split_part(r, ':', 2) AS doc
    FROM (SELECT unnest({{required}}) AS r)
),
filed AS (
    SELECT e.*,
           list_filter(regexp_split_to_array(coalesce(e.docs, ''), '[;,；，、\s]+'),
                       lambda x: x <> '') AS have
    FROM insu_event e
    -- a county's register holds decades of filings: only the recent ones are still to be
    -- completed, counted back from the newest filing the lake holds (not from today)
    WHERE e.evt_date >= (SELECT max(evt_date) FROM insu_event)
                        - to_months(CAST({{recent_months}} AS INTEGER))
),
lacking AS (
    SELECT f.evt_sn, f.emp_no, f.psn_no, f.evt_type, f.evt_date,
           list(q.doc ORDER BY q.doc) AS codes,
           list(coalesce(d.zh, q.doc) ORDER BY q.doc) AS names_zh,
           list(coalesce(d.en, q.doc) ORDER BY q.doc) AS names_en
    FROM filed f
    JOIN req q ON q.evt_type = f.evt_type
    LEFT JOIN code_doc_type d ON d.code = q.doc
    WHERE NOT list_contains(f.have, q.doc) AND NOT list_contains(f.have, coalesce(d.zh, q.doc))
    GROUP BY ALL
)
SELECT 'docs|' || l.evt_sn AS hit_key,
       'employer' AS entity_type,
       l.emp_no || '|' || l.evt_sn AS entity_id,
       'violating' AS role,
       unnest(no_claim_keys()), l.psn_no,
       CAST(l.evt_date AS TIMESTAMP) AS line_time,
       0.0 AS amount,
       format('{}（{}）{}申报人员{}的{}（{}），缺少{}，应补正。',
              coalesce(e.emp_name, l.emp_no), l.emp_no, l.evt_date, l.psn_no,
              coalesce(t.zh, l.evt_type), l.evt_sn, array_to_string(l.names_zh, '、'))
           AS evidence,
       format('{} ({}) filed the {} of person {} on {} ({}) without: {}; to be completed.',
              coalesce(e.emp_name, l.emp_no), l.emp_no, coalesce(t.en, l.evt_type), l.psn_no,
              l.evt_date, l.evt_sn, array_to_string(l.names_en, ', ')) AS evidence_en,
       CAST(len(l.codes) AS DOUBLE) AS score
FROM lacking l
LEFT JOIN employer e ON e.emp_no = l.emp_no
LEFT JOIN code_evt_type t ON t.code = l.evt_type
