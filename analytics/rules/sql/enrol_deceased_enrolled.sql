-- Template: contributions still declared for a person after the month of their death
-- (死亡人员仍在参保缴费). The date of death is the earliest in the death register or the
-- person register; the month of death itself is due and not judged. One hit per person,
-- employer and insurance type; each later month is a violating line, amount base × the
-- contribution rate (declared for nobody: a ghost on the payroll whose card stays live).
WITH rows AS (
    SELECT c.*, d.die_date
    FROM contrib c
    JOIN enrol_death d ON d.psn_no = c.psn_no
    WHERE list_contains({{insutypes}}, c.insutype)
      AND c.ym > CAST(date_trunc('month', d.die_date) AS DATE)
),
hit AS (
    SELECT *, base * {{contribution_rate}} AS at_stake, count(*) OVER k AS n,
           sum(base * {{contribution_rate}}) OVER k AS total, max(ym) OVER k AS last_ym
    FROM rows
    WINDOW k AS (PARTITION BY emp_no, psn_no, insutype)
)
SELECT 'deceased|' || emp_no || '|' || psn_no || '|' || insutype AS hit_key,
       'person' AS entity_type,
       emp_no || '|' || psn_no AS entity_id,
       'violating' AS role,
       unnest(no_claim_keys()), psn_no,
       CAST(ym AS TIMESTAMP) AS line_time,
       at_stake AS amount,
       format('参保人{}已于{}死亡，{}（{}）此后仍为其申报缴费{}个月（至{}），涉及费款{}（按费率{}%计），'
              || '应办理注销。',
              psn_no, die_date, emp_name, emp_no, n, strftime(last_ym, '%Y年%m月'),
              yuan(total), printf('%g', {{contribution_rate}} * 100)) AS evidence,
       format('Insured person {} died on {}, yet {} ({}) declared contributions for {} more month(s) '
              || '(to {}): {} (at {}%); the enrolment should have been cancelled.',
              psn_no, die_date, emp_name, emp_no, n, strftime(last_ym, '%Y-%m'),
              yuan(total), printf('%g', {{contribution_rate}} * 100)) AS evidence_en,
       CAST(n AS DOUBLE) AS score
FROM hit
