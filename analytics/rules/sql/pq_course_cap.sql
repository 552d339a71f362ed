-- Template: an item used by one person in a continuous course longer than its payable
-- course (max_course_days). A course is the person's uses of the item (any institution),
-- in time order, that follow each other with no break: a use starting more than gap_days
-- after the end of the supply so far (an outpatient or pharmacy drug line supplies
-- cnt × days_per_unit days, any other line its own day) starts a new course.
-- Course day of a use = days since the course's first use + 1.
-- Args: list_types, kind_zh / kind_en. Param: gap_days.
-- Amount at risk: the lines beyond the course, each in the share of its supply days that
-- lies beyond the last payable day (a whole line for a daily inpatient line).
WITH b AS (
    SELECT line_key, fixmedins_code, psn_no, setl_id, mdtrt_id, feedetl_sn, fee_ocur_time,
           med_list_codg, med_list_name, cnt, inscp_amt, max_course_days,
           day_of(fee_ocur_time) AS d,
           CASE WHEN setting IN ('op', 'ph') AND days_per_unit > 0
                THEN greatest(1, CAST(ceil(cnt * CAST(days_per_unit AS DOUBLE)) AS INTEGER))
                ELSE 1 END AS supply
    FROM line
    WHERE list_type IN {{list_types}} AND max_course_days IS NOT NULL AND cnt > 0
),
e AS (
    SELECT *,
           max(d + supply) OVER (PARTITION BY psn_no, med_list_codg ORDER BY fee_ocur_time,
                                 line_key ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
               AS prev_end
    FROM b
),
c AS (
    SELECT *,
           sum(CASE WHEN prev_end IS NULL OR d > prev_end + {{gap_days}} THEN 1 ELSE 0 END)
               OVER (PARTITION BY psn_no, med_list_codg ORDER BY fee_ocur_time, line_key
                     ROWS UNBOUNDED PRECEDING) AS course_no
    FROM e
),
k AS (
    SELECT *,
           min(d) OVER w AS c_start,
           max(d + supply) OVER w AS c_end,
           count(*) OVER w AS c_lines,
           sum(inscp_amt) OVER w AS c_inscp
    FROM c
    WINDOW w AS (PARTITION BY psn_no, med_list_codg, course_no)
),
r AS (
    SELECT *,
           -- supply days of this line after the last payable day (c_start + cap − 1)
           greatest(0, least(supply, d + supply - (c_start + max_course_days))) AS over_days
    FROM k
    WHERE c_end - c_start > max_course_days
),
g AS (
    SELECT *,
           inscp_amt * over_days / supply AS amt,
           sum(inscp_amt * over_days / supply)
               OVER (PARTITION BY psn_no, med_list_codg, course_no) AS c_risk,
           sum(CASE WHEN over_days > 0 THEN 1 ELSE 0 END)
               OVER (PARTITION BY psn_no, med_list_codg, course_no) AS c_over_lines,
           max(d) OVER (PARTITION BY psn_no, med_list_codg, course_no) AS c_last
    FROM r
)
SELECT psn_no || '|' || med_list_codg || '|' || CAST(c_start AS VARCHAR) AS hit_key,
       'person' AS entity_type, psn_no AS entity_id,
       CASE WHEN over_days > 0 THEN 'violating' ELSE 'involved' END AS role,
       fixmedins_code, psn_no, setl_id, mdtrt_id, feedetl_sn,
       fee_ocur_time AS line_time,
       round(amt, 4) AS amount,
       format('{}「{}」({}) 限支付疗程{}天；患者自{}起连续使用至{}（含供药共{}天，{}条明细），'
              || '第{}天起的{}条明细超出疗程；该疗程医保范围内金额{}，疑点金额{}。',
              {{kind_zh}}, med_list_name, med_list_codg, max_course_days, c_start, c_last,
              c_end - c_start, c_lines, max_course_days + 1, c_over_lines,
              yuan(c_inscp), yuan(c_risk)) AS evidence,
       format('{} "{}" ({}) is paid for a course of at most {} days; the patient used it '
              || 'continuously from {} to {} ({} days with supply, {} lines); {} lines fall '
              || 'on day {} or later; in-scope {}, at risk {}.',
              {{kind_en}}, med_list_name, med_list_codg, max_course_days, c_start, c_last,
              c_end - c_start, c_lines, c_over_lines, max_course_days + 1,
              yuan(c_inscp), yuan(c_risk)) AS evidence_en,
       CAST(c_end - c_start AS DOUBLE) AS score
FROM g
WHERE c_risk > 0.005
