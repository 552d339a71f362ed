-- Template: item allowed only for listed values of a claim field, billed with another
-- value. Args: restriction (catalogue list column: lmt_insutype, lmt_dept, lmt_med_type),
-- value (the line's field it constrains: insutype, bilg_dept_codg, med_type), dim (which
-- code list names the values: 'insutype', 'dept', 'med_type'), what_zh / what_en (how the
-- evidence calls the field), settings (care settings the rule applies to: op, ip, ph).
-- A line whose field is empty is not judged. Amount at risk: the line's inscp_amt.
WITH names(dim, code, zh, en) AS (
    VALUES ('insutype', '310', '职工基本医疗保险', 'employee basic medical insurance'),
           ('insutype', '320', '公务员医疗补助', 'civil-servant medical subsidy'),
           ('insutype', '330', '大额医疗费用补助', 'large-expense supplementary insurance'),
           ('insutype', '340', '离休人员医疗保障', 'retired-cadre medical security'),
           ('insutype', '390', '城乡居民基本医疗保险', 'resident basic medical insurance'),
           ('insutype', '392', '城乡居民大病医疗保险', 'resident critical-illness insurance'),
           ('insutype', '410', '长期照护保险', 'long-term care insurance'),
           ('insutype', '510', '生育保险', 'maternity insurance'),
           ('insutype', '610', '工伤保险', 'work-injury insurance'),
           ('dept', 'A02', '全科医疗科', 'general practice'),
           ('dept', 'A03', '内科', 'internal medicine'),
           ('dept', 'A04', '外科', 'surgery'),
           ('dept', 'A05', '妇产科', 'obstetrics and gynaecology'),
           ('dept', 'A07', '儿科', 'paediatrics'),
           ('dept', 'A10', '眼科', 'ophthalmology'),
           ('dept', 'A11', '耳鼻咽喉科', 'ENT'),
           ('dept', 'A12', '口腔科', 'stomatology'),
           ('dept', 'A20', '急诊医学科', 'emergency medicine'),
           ('dept', 'A21', '康复医学科', 'rehabilitation'),
           ('dept', 'A30', '医学检验科', 'laboratory'),
           ('dept', 'A32', '医学影像科', 'medical imaging'),
           ('dept', 'A50', '中医科', 'traditional Chinese medicine'),
           ('dept', 'A51', '肿瘤科', 'oncology'),
           ('dept', 'A52', '肾内科(血液透析)', 'nephrology (dialysis)'),
           ('dept', 'D01', '药房', 'pharmacy'),
           ('med_type', '11', '普通门诊', 'general outpatient'),
           ('med_type', '12', '门诊挂号', 'outpatient registration'),
           ('med_type', '13', '急诊', 'emergency'),
           ('med_type', '14', '门诊慢特病', 'outpatient chronic disease'),
           ('med_type', '15', '特药', 'special drugs'),
           ('med_type', '16', '中医特色门诊', 'TCM outpatient'),
           ('med_type', '21', '普通住院', 'general inpatient'),
           ('med_type', '22', '外伤住院', 'trauma inpatient'),
           ('med_type', '23', '转外诊治住院', 'referred-out inpatient'),
           ('med_type', '24', '急诊转住院', 'emergency to inpatient'),
           ('med_type', '25', '异地住院', 'inpatient elsewhere'),
           ('med_type', '26', '单病种住院', 'single-disease inpatient'),
           ('med_type', '27', '自主就医', 'self-referred care'),
           ('med_type', '28', '日间手术', 'day surgery'),
           ('med_type', '41', '定点药店购药', 'retail pharmacy purchase'),
           ('med_type', '51', '生育门诊', 'maternity outpatient'),
           ('med_type', '52', '生育住院', 'maternity inpatient')
),
hit AS (
    SELECT *, {{ident:value}} AS have
    FROM line
    WHERE {{ident:restriction}} IS NOT NULL
      AND {{ident:value}} IS NOT NULL
      AND setting IN {{settings}}
      AND inscp_amt > 0
      AND NOT list_contains(string_split({{ident:restriction}}, ';'), {{ident:value}})
      -- a department's sub-specialty (A52.01) is within its department (A52)
      AND NOT ({{dim}} = 'dept' AND list_contains(string_split({{ident:restriction}}, ';'),
                                                  split_part({{ident:value}}, '.', 1)))
),
allowed AS (  -- the restriction in words, per restricted catalogue item (a few dozen)
    SELECT a.med_list_codg,
           string_agg(coalesce(n.zh, a.code) || '(' || a.code || ')', '、' ORDER BY a.code)
               AS allowed_zh,
           string_agg(coalesce(n.en, a.code) || ' (' || a.code || ')', ', ' ORDER BY a.code)
               AS allowed_en
    FROM (SELECT med_list_codg, unnest(string_split({{ident:restriction}}, ';')) AS code
          FROM kb_catalogue
          WHERE {{ident:restriction}} IS NOT NULL) a
    LEFT JOIN names n ON n.dim = {{dim}} AND n.code = a.code
    GROUP BY a.med_list_codg
)
SELECT h.line_key AS hit_key,
       'fee_line' AS entity_type,
       h.line_key AS entity_id,
       'violating' AS role,
       h.fixmedins_code, h.psn_no, h.setl_id, h.mdtrt_id, h.feedetl_sn,
       h.fee_ocur_time AS line_time,
       h.inscp_amt AS amount,
       format('{}「{}」({}) 限{}：{}；本次{}为{}({})；医保范围内金额{}。',
              CASE h.list_type WHEN '201' THEN '诊疗项目' WHEN '301' THEN '医用耗材'
                   WHEN '102' THEN '中药饮片' ELSE '药品' END,
              h.med_list_name, h.med_list_codg, {{what_zh}}, a.allowed_zh, {{what_zh}},
              coalesce(n.zh, '未知'), h.have, yuan(h.inscp_amt)) AS evidence,
       format('{} "{}" ({}) is restricted by {} to: {}; this claim''s {} is {} ({}); '
              || 'in-scope {}.',
              CASE h.list_type WHEN '201' THEN 'Service' WHEN '301' THEN 'Consumable'
                   WHEN '102' THEN 'Herbal piece' ELSE 'Drug' END,
              h.med_list_name, h.med_list_codg, {{what_en}}, a.allowed_en, {{what_en}},
              coalesce(n.en, 'unknown'), h.have, yuan(h.inscp_amt)) AS evidence_en
FROM hit h
JOIN allowed a USING (med_list_codg)
LEFT JOIN names n ON n.dim = {{dim}} AND n.code = h.have
