-- Template: a claim paid by the employees' insurance while the person's enrolment was
-- interrupted or ended (中断参保期间发生医保结算). An interruption (21), cancellation (31) or
-- transfer out (41) ends the cover after grace_months full months following the month it
-- takes effect in; an enrolment (11) at any employer after it restores it. A settlement of
-- those insurance types with a fund payment in between, in a month for which no employer
-- declared the person, is a hit; amount: the fund's payment.
WITH ended AS (
    SELECT e.psn_no, e.emp_no, e.evt_type, e.evt_date, e.evt_sn,
           CAST(date_trunc('month', e.evt_date)
                + to_months(CAST({{grace_months}} AS INTEGER) + 1) AS DATE) AS stop_from,
           (SELECT min(r.evt_date) FROM insu_event r
            WHERE r.psn_no = e.psn_no AND r.evt_type = '11' AND r.evt_date > e.evt_date)
               AS resumed
    FROM insu_event e
    WHERE e.evt_type IN ('21', '31', '41')
),
claims AS (
    SELECT v.visit_key, v.fixmedins_code, v.fixmedins_name, v.setl_id, v.mdtrt_id, v.psn_no,
           v.setl_time, CAST(v.fund_pay_sumamt AS DOUBLE) AS fund_paid, x.emp_no, x.evt_type,
           x.evt_date, x.evt_sn, x.stop_from
    FROM visit v
    JOIN ended x ON x.psn_no = v.psn_no AND v.setl_time >= x.stop_from
                AND (x.resumed IS NULL OR CAST(v.setl_time AS DATE) < x.resumed)
    WHERE list_contains({{insutypes}}, v.insutype) AND v.fund_pay_sumamt > 0
    QUALIFY row_number() OVER (PARTITION BY v.visit_key ORDER BY x.evt_date DESC, x.evt_sn) = 1
),
uncovered AS (
    SELECT k.*
    FROM claims k
    ANTI JOIN contrib c
        ON c.psn_no = k.psn_no AND c.ym = CAST(date_trunc('month', k.setl_time) AS DATE)
)
SELECT visit_key AS hit_key,
       'settlement' AS entity_type,
       visit_key AS entity_id,
       'violating' AS role,
       u.fixmedins_code, u.psn_no, u.setl_id, u.mdtrt_id, CAST(NULL AS VARCHAR) AS feedetl_sn,
       setl_time AS line_time,
       fund_paid AS amount,
       format('参保人{}已由{}（{}）于{}申报{}（{}），自{}起停止享受待遇且未重新参保，'
              || '{}仍在{}（{}）结算，基金支付{}。',
              u.psn_no, coalesce(e.emp_name, u.emp_no), u.emp_no, evt_date, t.zh, evt_sn,
              stop_from, day_of(setl_time), u.fixmedins_name, u.fixmedins_code,
              yuan(fund_paid)) AS evidence,
       format('{} ({}) filed the {} of person {} on {} ({}); cover ended on {} with no new '
              || 'enrolment, yet a claim was settled on {} at {} ({}), fund paid {}.',
              coalesce(e.emp_name, u.emp_no), u.emp_no, t.en, u.psn_no, evt_date, evt_sn,
              stop_from, day_of(setl_time), u.fixmedins_name, u.fixmedins_code,
              yuan(fund_paid)) AS evidence_en,
       CAST(date_diff('day', stop_from, CAST(setl_time AS DATE)) AS DOUBLE) AS score
FROM uncovered u
LEFT JOIN employer e ON e.emp_no = u.emp_no
LEFT JOIN code_evt_type t ON t.code = u.evt_type
