"""A rule's legal basis (``legal_basis`` in the catalogue, written in Chinese) in English.

The catalogue cites laws by title in 《》 (``《处方管理办法》第三十五条``), the regulations it
rests on by their short name (``条例第十五条``: the *Regulations on the Supervision and
Administration of the Use of Medical Security Funds*), and adds a few words on what the
clause forbids (``（重复收费）``). In English the titles become the laws' English titles, the
clauses ``第N条第M款第K项`` become "Article N, paragraph M, item K", and the notes and
untitled references come from a phrase table; the screens keep the Chinese on hover.
A piece the tables do not know stays in Chinese (a test holds the shipped catalogue to
having none).
"""

from __future__ import annotations

import re

REGULATIONS = "医疗保障基金使用监督管理条例"
"""What the catalogue's bare ``条例`` stands for."""

TITLES_EN: dict[str, str] = {
    REGULATIONS: (
        "Regulations on the Supervision and Administration of the Use of Medical Security Funds"
    ),
    "社会保险法": "Social Insurance Law",
    "社会保险费征缴暂行条例": (
        "Interim Regulations on the Collection and Payment of Social Insurance Premiums"
    ),
    "社会保险登记管理暂行办法": (
        "Interim Measures for the Administration of Social Insurance Registration"
    ),
    "工伤保险条例": "Regulations on Work-Related Injury Insurance",
    "基本医疗保险关系转移接续暂行办法": (
        "Interim Measures for the Transfer and Continuation of Basic Medical Insurance"
    ),
    "基本医疗保险用药管理暂行办法": (
        "Interim Measures for the Administration of Drugs Used in Basic Medical Insurance"
    ),
    "医疗保障基金使用监督管理办法": (
        "Measures for the Supervision and Administration of the Use of Medical Security Funds"
    ),
    "医疗机构医疗保障定点管理暂行办法": (
        "Interim Measures for the Administration of Medical Security Designation of "
        "Medical Institutions"
    ),
    "医疗保障定点医疗机构管理暂行办法": (
        "Interim Measures for the Administration of Medical Security Designated "
        "Medical Institutions"
    ),
    "医疗保障基金智能审核和监控知识库、规则库管理办法(试行)": (
        "Measures for the Administration of the Knowledge Base and Rule Base for "
        "Intelligent Review and Monitoring of Medical Security Funds (Trial)"
    ),
    "医疗保障基金结算清单填写规范": (
        "Specification for Filling in the Medical Security Fund Settlement List"
    ),
    "医疗保障信息平台 定点医疗机构接口规范": (
        "Medical Security Information Platform: Interface Specification for Designated "
        "Medical Institutions"
    ),
    "医疗保障疾病诊断分类与代码": "Medical Security Classification and Codes of Diseases",
    "医疗保障手术操作分类与代码": (
        "Medical Security Classification and Codes of Surgical Operations"
    ),
    "全国医疗服务价格项目规范": "National Specification of Medical Service Price Items",
    "医疗服务价格项目规范": "Specification of Medical Service Price Items",
    "医疗机构医疗服务价格项目规范": (
        "Specification of Medical Service Price Items for Medical Institutions"
    ),
    "医疗机构处方审核规范": "Specification for Prescription Review in Medical Institutions",
    "处方管理办法": "Measures for the Administration of Prescriptions",
    "抗菌药物临床应用管理办法": (
        "Measures for the Administration of the Clinical Use of Antibacterial Drugs"
    ),
    "抗菌药物临床应用指导原则（2015年版）": (
        "Guiding Principles for the Clinical Use of Antibacterial Drugs (2015 edition)"
    ),
    "中华人民共和国药典": "Pharmacopoeia of the People's Republic of China",
    "国务院办公厅关于全面推进生育保险和职工基本医疗保险合并实施的意见": (
        "Opinions of the General Office of the State Council on Fully Advancing the "
        "Combined Implementation of Maternity Insurance and Employees' Basic Medical Insurance"
    ),
}
"""The titles of the laws, regulations and standards the shipped catalogue cites, in
English (the official English titles where there is one)."""

PHRASES_EN: dict[str, str] = {
    "条例": TITLES_EN[REGULATIONS],
    # references without 《》
    "医疗保障基金使用监督管理办法": TITLES_EN["医疗保障基金使用监督管理办法"],
    "医疗服务价格项目规范": TITLES_EN["医疗服务价格项目规范"],
    "国家医保药品目录": "the National Reimbursement Drug List",
    "国家医保药品目录限定支付范围": (
        "restricted payment scope of the National Reimbursement Drug List"
    ),
    "国家医保药品目录及医疗服务项目限定支付范围": (
        "restricted payment scope of the National Reimbursement Drug List and of medical "
        "service items"
    ),
    "医疗服务项目及医用耗材医保支付范围": (
        "payment scope of medical service items and medical consumables"
    ),
    "医用耗材限定支付范围": "restricted payment scope of medical consumables",
    "医用耗材医保支付限额": "payment cap of medical consumables",
    "医用耗材使用规范与限量": "rules and limits on the use of medical consumables",
    "医保支付限额": "payment cap",
    "医保支付限定": "payment restriction",
    "医保目录限定支付": "restricted payment under the reimbursement list",
    "医保药品支付标准": "drug payment standard",
    "国家组织药品集中采购中选价格": "winning prices of national centralised drug procurement",
    "省医疗服务价格": "provincial medical service prices",
    "门诊慢特病管理办法": "measures for outpatient chronic and special diseases",
    "长期处方管理规范": "rules on long-term prescriptions",
    "住院费用按日计费规定": "rules on charging inpatient fees by the day",
    "诊疗技术规范禁忌": "contraindications in clinical technical specifications",
    "药品说明书禁忌": "contraindications on the drug label",
    "药品说明书最大日剂量": "maximum daily dose on the drug label",
    "药品说明书用法": "administration on the drug label",
    "药品说明书相互作用": "interactions on the drug label",
    "药品说明书妊娠期及哺乳期禁忌": (
        "contraindications in pregnancy and breastfeeding on the drug label"
    ),
    "老年人潜在不适当用药目录": "list of potentially inappropriate medications for older people",
    "中药配伍禁忌": "incompatibilities of Chinese herbal medicines",
    "十八反": "the eighteen antagonisms",
    "十九畏": "the nineteen mutual inhibitions",
    "统计指标监测类": "statistical indicator monitoring",
    "出院患者31天内非计划再入院率": "unplanned readmission within 31 days of discharge",
    "国家卫生健康委医疗质量控制指标": "a National Health Commission quality-control indicator",
    "ICD-10医保版": "ICD-10 medical security edition",
    "ICD-9-CM-3医保版": "ICD-9-CM-3 medical security edition",
    # what the clause forbids or asks
    "合理诊疗": "reasonable diagnosis and treatment",
    "合理收费": "reasonable charges",
    "合理检查": "reasonable examinations",
    "合理治疗": "reasonable treatment",
    "如实上传": "truthful upload",
    "按规定及时上传数据": "upload of data on time as required",
    "费用明细上传": "upload of fee details",
    "重复收费": "duplicate charging",
    "分解收费": "unbundled charging",
    "分解项目收费": "charging a service item in parts",
    "虚构医药服务项目": "fictitious medical services",
    "虚记费用": "false charges",
    "冒名就医": "seeking care under another's name",
    "重复享受待遇": "receiving benefits twice",
    "骗取医保基金": "defrauding the medical insurance fund",
    "药店串换": "drug substitution by pharmacies",
    "套现": "cashing out",
    "不得分解住院": "no split admissions",
    "挂床住院": "phantom admissions",
    "用药禁忌审核": "review of drug contraindications",
    "用药不适宜处方": "inappropriate prescriptions",
    "重复给药属用药不适宜处方": "duplicate medication is an inappropriate prescription",
    "给药途径与诊疗项目相符": "the route of administration matches the service",
    "主要诊断与主要手术操作对应": "main diagnosis consistent with the main operation",
    "每张处方不得超过5种药品": "no more than 5 drugs per prescription",
    "门诊一般不超过7日": "outpatient prescriptions usually no more than 7 days",
    "慢性病不超过30日用量": "no more than 30 days' supply for chronic diseases",
    "清洁手术预防用药时间不超过24小时": ("prophylaxis in clean surgery for no more than 24 hours"),
    "同一切口多项手术": "several operations through one incision",
    "主要手术按全价": "the main one at full price",
    "其余按50%收费": "the others at 50%",
    "可另收费耗材须随相应项目收取": (
        "separately chargeable consumables are charged with their service item"
    ),
    "床位费": "bed fees",
    "护理费按日计价": "nursing fees charged by the day",
    "计价单位与频次说明": "pricing units and frequencies",
    "组合项目内涵": "content of combined items",
    "项目内涵": "content of the item",
    "分级限价": "price caps by hospital level",
    "每人每年": "per person per year",
    "康复等项目限支付疗程": "rehabilitation and similar items paid for a limited course",
    "超出部分不纳入医保支付": "the excess is not paid by the fund",
    "最长12周": "at most 12 weeks",
    "限住院使用": "inpatient use only",
    "限×天疗程": "limited to a course of n days",
    "限二线用药": "second-line use only",
    "一线药物治疗无效或不能耐受后使用": "after first-line drugs failed or were not tolerated",
    "限适应症": "indications only",
    "限门诊慢特病等病种": "outpatient chronic and special diseases only",
    "单味使用不予支付费用的中药饮片": "herbal pieces not paid when used alone",
    "单味或复方均不支付费用的中药饮片": (
        "herbal pieces paid neither alone nor in compound prescriptions"
    ),
    "喹诺酮类18岁以下": "quinolones under 18",
    "四环素类8岁以下禁用": "tetracyclines under 8 contraindicated",
    "他汀类": "statins",
    "华法林": "warfarin",
    "喹诺酮类": "quinolones",
    "甲氨蝶呤": "methotrexate",
    "苯二氮䓬类": "benzodiazepines",
    "第一代抗组胺药": "first-generation antihistamines",
    "曲马多": "tramadol",
    "等": "etc.",
}
"""The catalogue's other words: references without a title, and its notes."""

_NUM = "零〇一二两三四五六七八九十百千"
_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
_UNITS = {"十": 10, "百": 100, "千": 1000}
_ARTICLE = re.compile(rf"第([{_NUM}]+)条(?:第([{_NUM}]+)款)?(?:第([{_NUM}]+)项)?")
_ORDER = re.compile(r"卫生部令第(\d+)号")
_DOC_NO = re.compile(r"医保办发〔(\d{4})〕(\d+)号")
_PUNCT = {"；": "; ", "、": ", ", "，": ", ", "：": ": ", "（": " (", "(": " ("}
_PUNCT |= {"）": ")", ")": ")"}
_ASCII = re.compile(r"[\x21-\x27\x2a-\x7e]+")
_HAN = re.compile(r"[\u3400-\u9fff]")
_KEYS = sorted(PHRASES_EN, key=len, reverse=True)


def chinese_number(text: str) -> int:
    """``十五`` → 15, ``三十八`` → 38, ``一百零二`` → 102."""
    total, digit = 0, 0
    for c in text:
        if c in _DIGITS:
            digit = _DIGITS[c]
        elif c in _UNITS:
            total += (digit or 1) * _UNITS[c]
            digit = 0
        else:
            msg = f"not a Chinese numeral: {text}"
            raise ValueError(msg)
    return total + digit


def article_en(match: re.Match[str]) -> str:
    """``第十五条第二款第三项`` → "Article 15, paragraph 2, item 3"."""
    article, paragraph, item = match.groups()
    words = [f"Article {chinese_number(article)}"]
    if paragraph:
        words.append(f"paragraph {chinese_number(paragraph)}")
    if item:
        words.append(f"item {chinese_number(item)}")
    return ", ".join(words)


def _tokens(basis: str) -> list[tuple[str, str]]:
    """The basis as (kind, English) pieces: ``title``, ``article``, ``word``, ``punct``;
    a character nothing knows is a ``word`` of its own, as written."""
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(basis):
        rest = basis[i:]
        if rest[0] == "《" and "》" in rest:
            title = rest[1 : rest.index("》")]
            english = TITLES_EN.get(title)
            out.append(("title", english if english else f"《{title}》"))
            i += len(title) + 2
            continue
        if m := _ARTICLE.match(rest):
            out.append(("article", article_en(m)))
        elif m := _ORDER.match(rest):
            out.append(("word", f"Ministry of Health Order No. {m[1]}"))
        elif m := _DOC_NO.match(rest):
            out.append(("word", f"NHSA General Office document [{m[1]}] No. {m[2]}"))
        elif key := next((k for k in _KEYS if rest.startswith(k)), None):
            out.append(("title" if key == "条例" else "word", PHRASES_EN[key]))
            i += len(key)
            continue
        elif rest[0] in _PUNCT:
            out.append(("punct", _PUNCT[rest[0]]))
            i += 1
            continue
        elif m := _ASCII.match(rest):
            out.append(("word", m[0]))
        elif rest[0].isspace():
            i += 1
            continue
        else:
            out.append(("word", rest[0]))
            i += 1
            continue
        i += m.end()
    return out


def basis_en(basis: str) -> str:
    """``basis`` in English: "条例第十五条（重复收费）" → "Regulations on the Supervision
    and Administration of the Use of Medical Security Funds, Article 15 (duplicate
    charging)"."""
    text = ""
    previous = "punct"
    for kind, english in _tokens(basis):
        if kind == "word" and previous == "title":
            text += ": "
        elif (kind == "article" and previous in ("title", "word")) or (
            kind != "punct" and previous == "punct" and text.endswith(")")
        ):
            text += ", " if kind == "article" else " "
        elif kind != "punct" and previous != "punct":
            text += " "
        text += english
        previous = kind
    return re.sub(r"\s+", " ", text.replace("( ", "(")).strip()


def basis_text(basis: str | None, lang: str) -> str | None:
    """The basis as a screen in ``lang`` shows it (Chinese: as catalogued)."""
    if not basis:
        return basis
    return basis_en(basis) if lang == "en" else basis


def untranslated(basis: str) -> list[str]:
    """The Han characters ``basis`` keeps in English (none for a basis the tables know)."""
    return _HAN.findall(basis_en(basis))
