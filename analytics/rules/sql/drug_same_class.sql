-- Template: two or more different drugs of the same pharmacological class (catalogue
-- drug_class, whatever classification the catalogue uses) in one outpatient visit (重复开药).
-- The drug prescribed first (earliest line) is involved; the lines of every other drug of the
-- class are violating, amount at risk = their inscp_amt (the repeated charge). One hit per
-- visit and class. Args: settings, drug_list_types (the drugs: 101, 103, 104; herbal pieces
-- are prescribed together by design).
WITH d AS (
    SELECT fixmedins_code, psn_no, setl_id, mdtrt_id, feedetl_sn, fee_ocur_time,
           med_list_codg, med_list_name, drug_class, inscp_amt,
           fixmedins_code || '|' || mdtrt_id || '|' || drug_class AS hit_key
    FROM line
    WHERE drug_class IS NOT NULL AND list_type IN {{drug_list_types}} AND setting IN {{settings}}
      AND inscp_amt > 0
),
-- the visits and classes with more than one drug first (few), then their texts; two
-- different drugs = the least code below the greatest
multi AS (
    SELECT hit_key FROM d GROUP BY hit_key HAVING min(med_list_codg) < max(med_list_codg)
),
dm AS (
    SELECT * FROM d SEMI JOIN multi USING (hit_key)
),
g AS (
    SELECT hit_key, arg_min(med_list_codg, (fee_ocur_time, feedetl_sn)) AS first_item,
           count(DISTINCT med_list_codg) AS k,
           string_agg(DISTINCT med_list_name, '、' ORDER BY med_list_name) AS names_zh,
           string_agg(DISTINCT med_list_name, ', ' ORDER BY med_list_name) AS names_en
    FROM dm GROUP BY hit_key
),
r AS (
    SELECT dm.*, g.first_item, g.k, g.names_zh, g.names_en,
           CASE WHEN dm.med_list_codg = g.first_item THEN 'involved' ELSE 'violating' END AS role
    FROM dm JOIN g USING (hit_key)
),
t AS (
    SELECT hit_key, sum(inscp_amt) FILTER (WHERE role = 'violating') AS repeated FROM r GROUP BY hit_key
)
SELECT r.hit_key, 'settlement' AS entity_type, r.fixmedins_code || '|' || r.setl_id AS entity_id,
       r.role, r.fixmedins_code, r.psn_no, r.setl_id, r.mdtrt_id, r.feedetl_sn,
       r.fee_ocur_time AS line_time,
       CASE WHEN r.role = 'violating' THEN r.inscp_amt ELSE 0 END AS amount,
       format('同次门诊开具同类药品（{}类）{}种：{}，属重复开药；重复部分医保范围内金额{}。',
              r.drug_class, r.k, r.names_zh, yuan(t.repeated)) AS evidence,
       format('{} different drugs of one class ({}) in the same outpatient visit: {}; the repeated '
              || 'drugs in scope {}.', r.k, r.drug_class, r.names_en, yuan(t.repeated)) AS evidence_en
FROM r JOIN t USING (hit_key)
