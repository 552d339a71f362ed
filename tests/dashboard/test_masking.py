"""Masking: exact cases, then properties over any text: a masked value never shows a
character its rule does not allow, keeps its length, and masking it again changes nothing."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hrss_fraud.cases import masking as m

MASKERS = {
    "id_number": m.mask_id_number,
    "name": m.mask_name,
    "phone": m.mask_phone,
    "address": m.mask_address,
}
UNIT_ENDS = ("省", "市", "州", "区", "县", "旗", "镇", "乡", "街道")

text = st.text(
    alphabet=st.one_of(
        st.sampled_from("0123456789X*张王欧阳司马县镇乡市区省村路号小社街道 -"),
        st.characters(codec="utf-8"),
    ),
    max_size=30,
)


@pytest.mark.parametrize(
    ("kind", "value", "masked"),
    [
        ("id_number", "110105199001011234", "110105********1234"),
        ("id_number", "11010519900101123X", "110105********123X"),
        ("id_number", "110105900101123", "110105******123"),
        ("id_number", "E12345678", "*********"),
        ("id_number", "", ""),
        ("name", "张三丰", "张**"),
        ("name", "张三", "张*"),
        ("name", "欧阳娜娜", "欧阳**"),
        ("name", "欧阳修", "欧阳*"),
        ("name", "欧阳", "欧*"),
        ("name", "李", "*"),
        ("phone", "13812345678", "138****5678"),
        ("phone", "0311-87654321", "*********4321"),
        ("phone", "8765432", "***5432"),
        ("phone", "110", "***"),
        ("address", "永宁县城关镇123号", "永宁县城关镇****"),
        ("address", "河北省石家庄市永宁县西河乡东街村5号", "河北省石家庄市永宁县西河乡*****"),
        ("address", "城关镇幸福小区3号楼", "城关镇*******"),
        ("address", "北京市朝阳区建国路1号", "北京市朝阳区*****"),
        ("address", "人民路8号", "*****"),
    ],
)
def test_exact(kind: str, value: str, masked: str) -> None:
    assert MASKERS[kind](value) == masked


@pytest.mark.parametrize("kind", list(MASKERS))
def test_none_stays_none(kind: str) -> None:
    assert MASKERS[kind](None) is None


def _allowed(kind: str, value: str) -> set[int]:
    """The positions each rule may show, written out independently of the module."""
    n = len(value)
    if kind == "id_number":
        tail = {18: 4, 15: 3}.get(n)
        return set(range(6)) | set(range(n - tail, n)) if tail else set()
    if kind == "phone":
        head = 3 if n == 11 and value.startswith("1") else 0
        return set(range(head)) | (set(range(n - 4, n)) if n >= 7 else set())
    if kind == "name":
        compound = n > 2 and value[:2] in m.COMPOUND_SURNAMES
        return set(range(2 if compound else 1 if n >= 2 else 0))
    return set(range(n))  # address: checked as a prefix below


@pytest.mark.parametrize("kind", list(MASKERS))
@given(value=text)
def test_never_reveals_more_keeps_length_and_is_idempotent(kind: str, value: str) -> None:
    out = MASKERS[kind](value)
    assert len(out) == len(value)
    assert MASKERS[kind](out) == out
    shown = {i for i, c in enumerate(out) if c != "*"}
    assert all(out[i] == value[i] for i in shown)
    assert shown <= _allowed(kind, value)
    if kind in ("address", "name"):  # a head kept, the rest starred
        head = out.rstrip("*")
        assert value.startswith(head) and out == head + "*" * (len(value) - len(head))
    if kind == "address" and shown:
        kept = value[: max(shown) + 1]
        assert kept.endswith(UNIT_ENDS) and "*" not in kept


@given(value=st.from_regex(r"\A[1-6]\d{16}[\dX]\Z"))
def test_any_id_number_shows_only_area_and_last_four(value: str) -> None:
    out = m.mask_id_number(value)
    assert out == value[:6] + "*" * 8 + value[-4:]


@given(values=st.lists(st.one_of(st.none(), text), max_size=8))
def test_the_frame_and_the_scalars_agree(values: list[str | None]) -> None:
    df = pl.DataFrame({c: values for c in m.FIELDS}, schema=dict.fromkeys(m.FIELDS, pl.String))
    out = m.mask_frame(df, "auditor")
    for column, kind in m.FIELDS.items():
        assert out[column].to_list() == [MASKERS[kind](v) for v in values]


PEOPLE = pl.DataFrame(
    {
        "psn_no": ["13012300000001"],
        "psn_name": ["欧阳娜娜"],
        "certno": ["130123199001011234"],
        "tel": ["13812345678"],
        "addr": ["永宁县城关镇12号"],
        "amount": [12.5],
    }
)


@pytest.mark.parametrize(
    ("role", "masked"),
    [
        ("reviewer", False),
        ("supervisor", False),
        ("auditor", True),
        ("admin", True),
        (None, True),
        ("intruder", True),
    ],
)
def test_mask_frame_by_role(role: str | None, masked: bool) -> None:
    out = m.mask_frame(PEOPLE, role)
    if not masked:
        assert out.equals(PEOPLE)
        return
    assert out.row(0) == (
        "13012300000001",
        "欧阳**",
        "130123********1234",
        "138****5678",
        "永宁县城关镇***",
        12.5,
    )


def test_mask_frame_knows_the_chinese_headers_and_lazy_frames() -> None:
    df = PEOPLE.rename(
        {"psn_name": "姓名", "certno": "证件号码", "tel": "联系电话", "addr": "地址"}
    )
    out = m.mask_frame(df.lazy(), "auditor").collect()
    assert out.row(0)[1:5] == ("欧阳**", "130123********1234", "138****5678", "永宁县城关镇***")


def test_mask_frame_with_other_columns_and_numbers() -> None:
    df = pl.DataFrame({"patient": ["王小明"], "id": [130123199001011234]})
    out = m.mask_frame(df, "auditor", columns={"patient": "name", "id": "id_number"})
    assert out.row(0) == ("王**", "130123********1234")
    with pytest.raises(ValueError, match=r"unknown masking kind\(s\) \['email'\]"):
        m.mask_frame(df, "auditor", columns={"patient": "email"})
