"""The kinds of legitimate look-alike the generator plants: per kind its Chinese name, the
policy that makes it legitimate, and the rules of the catalogue whose naive form it trips.
The county profile lists them from here; the planners are in :mod:`hrss_fraud.synth.lookalikes`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    """A kind of look-alike: its Chinese name, the policy that makes it legitimate and the
    catalogue rules (ids) whose naive form it trips."""

    zh: str
    policy: str
    resembles: tuple[str, ...]


KINDS: dict[str, Kind] = {
    "chronic_refill": Kind(
        "慢病按月购药",
        "a chronic patient refills a 30-day supply when the last runs out",
        ("overlapping_supply", "frequent_purchase"),
    ),
    "chemotherapy_cycle": Kind(
        "化疗周期住院",
        "planned chemotherapy cycles every 14 or 21 days (excluded from 分解住院)",
        ("split_admission", "frequent_admission", "zb_readmission"),
    ),
    "dialysis_schedule": Kind(
        "规律血液透析",
        "haemodialysis three times a week as chronic-disease outpatient care",
        ("frequent_outpatient", "abnormal_visit_frequency", "high_cost_outpatient"),
    ),
    "proxy_collection": Kind(
        "家属代取药",
        "a relative collects an elderly patient's refill beside their own purchase (代取药)",
        ("card_swiping",),
    ),
    "maternity_care": Kind(
        "高危妊娠产检与分娩",
        "prenatal checks of a scarred-uterus pregnancy every 4, then 2, then 1 week(s) "
        "(孕产期保健工作规范) and the planned repeat caesarean, under maternity cover",
        ("abnormal_visit_frequency", "frequent_outpatient", "item_pregnancy"),
    ),
    "rehab_course": Kind(
        "脑卒中后康复疗程",
        "daily weekday rehabilitation of stroke sequelae for 2–4 weeks in a rehabilitation "
        "department (康复医学科), within the items' 90-day course",
        ("frequent_outpatient", "abnormal_visit_frequency", "service_frequency"),
    ),
    "tcm_course": Kind(
        "针灸推拿疗程",
        "one course (一个疗程) of ten acupuncture sessions, daily or every other day, "
        "for neck, shoulder or back pain",
        ("frequent_outpatient", "abnormal_visit_frequency", "service_frequency"),
    ),
    "referral_transfer": Kind(
        "上转住院",
        "a township centre stabilises an acute patient and refers them up the same day "
        "(双向转诊): two admissions back to back, one condition",
        ("split_admission", "frequent_admission", "claim_during_stay", "zb_readmission"),
    ),
    "same_day_departments": Kind(
        "同日多科就诊",
        "an elderly multimorbid patient sees internal medicine and a second department of "
        "the county hospital on one day, for two conditions",
        ("same_day_visits",),
    ),
    "long_prescription": Kind(
        "慢病长处方",
        "a stable hypertension or diabetes patient gets up to 12 weeks' supply per visit "
        "(长期处方管理规范, 国卫办医发〔2021〕17号) and comes back every 12 weeks",
        ("drug_supply_cap", "overlapping_supply", "high_cost_outpatient"),
    ),
    "family_covisit": Kind(
        "家长带多名子女同诊",
        "a parent brings two sick children to the same clinic together, minutes apart",
        ("covisit_ring",),
    ),
    "emergency_return": Kind(
        "急诊后次日晨复诊",
        "a night emergency visit and the follow-up the emergency doctor asked for that "
        "morning, same complaint",
        ("same_day_visits", "abnormal_visit_frequency"),
    ),
    "wound_care": Kind(
        "术后换药随访",
        "dressing changes every 2–3 days after discharge from an operation, at the "
        "hospital that operated",
        ("frequent_outpatient", "abnormal_visit_frequency"),
    ),
    "elderly_polypharmacy": Kind(
        "老年多病一站式开药",
        "an elderly patient with three or more chronic conditions gets a month of every "
        "drug at one chronic-disease visit, on two prescriptions of at most five drugs each "
        "(处方管理办法 Art. 19)",
        ("drug_too_many", "pp_drugs_per_visit", "high_cost_outpatient"),
    ),
}
